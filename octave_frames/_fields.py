"""Which column feeds which request field: headers first, then a sample of the values.

Explicit ``fields=`` entries always win (``None`` keeps a field out). Every other field is
detected by :func:`detect_fields`, which reads each header, samples its values, and takes
the best column whose values do not contradict the field.

**Headers.** A header is compared after normalising (rules in :mod:`._headers`): case,
spaces and punctuation do not matter (``" E-MAIL "``, ``first_name``, ``firstName``);
numbers and Google's ``- Value`` are dropped (``E-mail 1 - Value``, ``E-mail 2 Address``,
lower numbers first); entity prefixes are read, not required (``Contact: First Name``,
``Lead Email``, ``Contacts.Email``, ``Person - Email - Work``); ``Account`` /
``Company`` / ``Organization`` words make company fields (``Account Website``,
``Organization 1 - Name``). MultiIndex headers are read on their levels joined with a space.
The headers below match exactly and score highest, in this order:

+-----------------+------------------------------------------------------------------+
| field           | headers, best first                                              |
+=================+==================================================================+
| email           | Email, Work Email, Business Email, Email Address,                |
|                 | Work Email Address, Contact Email, Person Email, Primary Email,  |
|                 | Professional Email, Corporate Email, Lead Email,                 |
|                 | Email Addresses, Primary Email Address, Business Email Address,  |
|                 | Mail                                                             |
+-----------------+------------------------------------------------------------------+
| firstName       | First Name, Given Name, First, FName, Forename                   |
+-----------------+------------------------------------------------------------------+
| lastName        | Last Name, Surname, Family Name, Last, LName                     |
+-----------------+------------------------------------------------------------------+
| jobTitle        | Job Title, Title, Position, Role, Job Position, Job Role,        |
|                 | Designation, Current Job Title, Current Position, Current Title, |
|                 | Organization Title, LinkedIn Job Title, Occupation               |
+-----------------+------------------------------------------------------------------+
| companyDomain   | Company Domain, Domain, Website, Company Website, Company URL,   |
|                 | Website URL, Company Domain Name, Domain Name, Web Page,         |
|                 | Account Website, Organization Website, Company Website URL,      |
|                 | Homepage                                                         |
+-----------------+------------------------------------------------------------------+
| companyName     | Company Name, Company, Account Name, Organization, Organisation, |
|                 | Organization Name, Employer, Company Name for Emails,            |
|                 | Current Company, Account, Associated Company, Business Name,     |
|                 | Company / Account                                                |
+-----------------+------------------------------------------------------------------+
| linkedInProfile | LinkedIn Profile, LinkedIn URL, LinkedIn, Person Linkedin Url,   |
|                 | LinkedIn Profile URL, Contact LinkedIn URL,                      |
|                 | LinkedIn Contact Profile URL, LinkedIn Profile Link,             |
|                 | Profile URL, Default Profile URL, Public Profile URL,            |
|                 | LinkedIn Public URL                                              |
+-----------------+------------------------------------------------------------------+
| crmContactId    | CRM Contact ID, Contact ID, Salesforce Contact ID,               |
|                 | SFDC Contact ID, HubSpot Contact ID, Contact Record ID,          |
|                 | Person ID, Converted Contact ID                                  |
+-----------------+------------------------------------------------------------------+
| crmLeadId       | CRM Lead ID, Lead ID, Salesforce Lead ID, SFDC Lead ID           |
+-----------------+------------------------------------------------------------------+
| crmAccountId    | CRM Account ID, Account ID, Salesforce Account ID,               |
|                 | SFDC Account ID, HubSpot Company ID, Company ID,                 |
|                 | Associated Company ID, Organization ID, Converted Account ID     |
+-----------------+------------------------------------------------------------------+

Beyond the table, a header is read as *entity + qualifier + core*: the core must be a
known word for the field (``email``, ``mail``, ``first name``, ``title``, ``designation``,
``website``, ``domain``, ``linkedin url``, ``profile url``, ``id``, ``record id``).
Never a field, whatever the values:

- headers about an email property or another record: ``Email Status``, ``Email Verified``,
  ``Email Opt Out``, ``Email Bounced``, ``Email Sent Count``, ``Primary Email Source``,
  ``E-mail 1 - Type``, anything with ``Owner``, ``Assistant``, ``Manager``, ``Created By``,
  ``Deal``, ``Opportunity``, ``Phonetic``, ``Previous`` ...;
- a company's email (``Company Email``) or LinkedIn page (``Company Linkedin Url``,
  ``LinkedIn Company Profile URL``), a personal website, and social pages as a domain;
- ids and profile pages of data vendors (``Apollo Contact Id``, ``ZoomInfo Contact Profile
  URL``): they are not CRM ids or LinkedIn profiles.

Id headers that name no record (HubSpot's ``Record ID``, ``Salesforce ID``) feed
``crmContactId``, or ``crmLeadId`` in a lead export (a ``Lead Owner`` column, or mostly
``Lead``-prefixed headers); Salesforce key prefixes in the values override that (``003``
contact, ``00Q`` lead, ``001`` account). A bare ``Id`` is taken only with Salesforce ids.
A bare ``URL`` / ``Link`` / ``Profile`` is a LinkedIn profile or a website as the values
say (LinkedIn's connections export calls the profile ``URL``).

**Values.** Up to 200 non-empty cells per column are sampled, always the same ones (the
first rows and rows spread evenly over the rest), so a 100,000-row frame costs what a
400-row one does. A column is never taken when a clear majority (60%) of its sampled values
do not have the field's shape: emails for ``email``; ``linkedin.com/in/`` URLs for
``linkedInProfile`` (a ``linkedin.com/company/`` page is not one); websites or domains for
``companyDomain``; text with a letter (not numbers, emails, URLs) for first and last names; text
that is not mostly salutations for ``jobTitle`` (Outlook's ``Title`` holds ``Mr``/``Ms``);
one token with a digit for ids. A header-matched column with no values at all is taken on
its header (for ``email`` too: it sends nothing, so it cannot write to a wrong person).
Without a matching header, only two fields are taken from values alone, and strictly: an
email column needs at least 90% email-shaped and 80% distinct values over at least 3 cells
(a column of owners' addresses repeats) and a header that names no one else; a LinkedIn
profile column 80% profile URLs.

**Choosing.** Among several email columns a header saying work / business / professional
wins, then the column whose addresses are less often free-mail (gmail.com, outlook.com ...),
then headers not saying personal / secondary, then the better header, then the leftmost.
Other fields take the best header score (raised by the share of fitting values), then the
leftmost. A column feeds one field. :class:`FieldDetection` says which column was taken
and why, and which were passed over; the passed-over ones are logged. Two columns with the
same label cannot be told apart, so using such a label raises :class:`ColumnError`. Columns
that octave_frames itself writes (``octave_*``, ``email_<n>_*``, ``product_*``,
``persona_*``, ``playbook_*``, ``output_type``) are never auto-detected.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import pandas as pd

from ._columns import ColumnFinder, display_name, normalize_header
from ._detect import FieldDetection, detect_fields
from ._headers import FIELD_SYNONYMS, check_field_name

__all__ = [
    "FIELD_SYNONYMS",
    "ColumnFinder",
    "FieldDetection",
    "check_field_name",
    "detect_fields",
    "display_name",
    "normalize_header",
    "resolve_fields",
]


def resolve_fields(
    frame: pd.DataFrame, fields: Mapping[str, Hashable] | None = None
) -> dict[str, Hashable]:
    """Map request fields to the columns that feed them: :func:`detect_fields`'s columns.

    Args:
        frame: The contacts.
        fields: ``{request_field: column label or None}``; explicit entries win and
            ``None`` keeps a field out of detection.

    Returns:
        ``{request_field: column label}`` in the order of ``REQUEST_FIELDS``.

    Raises:
        ArgumentError: A key of ``fields`` is not a request field (the nearest are named).
        ColumnError: A named column is missing (the nearest are named), or a column to be
            used has a duplicated label.

    Example:
        >>> frame = pd.DataFrame({"Work Email": ["ann@acme.com"], "First Name": ["Ann"]})
        >>> resolve_fields(frame, {"firstName": None})
        {'email': 'Work Email'}

    """
    return detect_fields(frame, fields).columns
