"""Import formats of the sequencers ops teams use: one declaration each, one writer.

A sequencer imports one row per contact: the contact's email, names, company, title,
phone, LinkedIn profile and website under the headers its import wizard maps by itself,
plus *custom fields* (variables, properties) that its templates insert with a merge tag.
Every email step becomes two custom fields, the subject and the body, so the template
of step ``i`` is just the two tags, e.g. for Instantly::

    Subject: {{email_1_subject}}
    Body:    {{email_1_body}}

The body is the row's ``email_{i}_text`` exactly as it stands in the frame, so edits made
in the Excel workbook are exported (it is never rebuilt from the sections).

What differs between sequencers is data, not code (:class:`Sequencer`): the standard
headers, how custom field names may be spelled (characters, case, length, reserved
names), how many custom fields they allow, the file's encoding, how a line break inside
a cell is written, the multi-value separator, the merge-tag syntax. Each declaration
lists what its vendor documents (with the address) and what is assumed. The rules were
looked up in the vendors' documentation in 2025; where none was found the choice is the
conservative one (letters, digits and ``_``, starting with a letter).

``merge-fields`` is the format every one of them accepts: custom field names of
lower-case letters and digits only, starting with a letter (``email1subject``), the
intersection of all the rules below; a test checks each preset's rule accepts them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal, get_args

from octave_frames._exceptions import ArgumentError

__all__ = [
    "CONTACT_FIELDS",
    "SEQUENCERS",
    "SEQUENCER_FORMATS",
    "Sequencer",
    "SequencerFormat",
    "custom_field_names",
    "merge_tags",
    "sequencer",
]

SequencerFormat = Literal[
    "outreach", "salesloft", "apollo", "hubspot", "instantly", "smartlead", "lemlist",
    "merge-fields",
]  # fmt: skip
#: The ``format`` values of ``to_csv`` (e.g. for a CLI's choices).
SEQUENCER_FORMATS: Final[tuple[SequencerFormat, ...]] = get_args(SequencerFormat)

#: Contact fields a sequencer maps on import, in the order they are written.
CONTACT_FIELDS: Final = (
    "email", "firstName", "lastName", "companyName", "jobTitle", "phone", "linkedInProfile",
    "companyDomain",
)  # fmt: skip

_PARTS: Final = ("subject", "body")


@dataclass(frozen=True)
class Sequencer:
    """How one sequencer imports contacts from a CSV file.

    Attributes:
        key: The ``format`` value.
        title: The product's name.
        standard: ``{contact field: header}`` for the fields its import maps by itself
            (keys from :data:`CONTACT_FIELDS`; a missing key: the field is not written).
        import_steps: The import in one line.
        documented: What the vendor documents, each with its source address.
        assumed: What is not documented (or not found) and was chosen here.
        naming: How step ``i``'s custom fields are spelled: ``"snake"`` (``email_1_subject``),
            ``"camel"`` (``email1Subject``) or ``"flat"`` (``email1subject``).
        name_rule: A regular expression every custom field name must match in full.
        max_name_length: The longest custom field name, if limited.
        reserved: Names (case-folded) custom fields must not take.
        max_custom_fields: How many custom fields one import may carry, if limited.
        max_value_length: The longest custom field value, if limited.
        max_rows: Rows per file the vendor recommends at most (a warning past it).
        encoding: ``"utf-8-sig"`` (UTF-8 with a byte-order mark) or ``"utf-8"``.
        line_break: How a line break inside a body is written: a newline inside the
            quoted cell, or ``"<br>"`` (plain text is then HTML-escaped).
        multi_value_separator: Between values of one multi-value cell.
        tag: The merge tag of a custom field; ``{name}`` is its name, ``{slot}`` its
            number among the file's custom fields (1, 2, ...).

    """

    key: SequencerFormat
    title: str
    standard: Mapping[str, str]
    import_steps: str
    documented: tuple[str, ...]
    assumed: tuple[str, ...]
    naming: Literal["snake", "camel", "flat"] = "snake"
    name_rule: str = r"[A-Za-z][A-Za-z0-9_]*"
    max_name_length: int | None = None
    reserved: frozenset[str] = field(default_factory=frozenset)
    max_custom_fields: int | None = None
    max_value_length: int | None = None
    max_rows: int | None = None
    # UTF-8 with a BOM everywhere: Excel's own "CSV UTF-8" writes one, so importers take
    # it, and a person opening the file in Excel sees "Zoë", not "ZoÃ«".
    encoding: Literal["utf-8-sig", "utf-8"] = "utf-8-sig"
    line_break: Literal["\n", "<br>"] = "\n"
    multi_value_separator: str = ","
    tag: str = "{{{name}}}"

    def field_name(self, step: int, part: str) -> str:
        """The custom field of step ``step``'s ``part`` (``"subject"`` or ``"body"``)."""
        if self.naming == "snake":
            return f"email_{step}_{part}"
        if self.naming == "camel":
            return f"email{step}{part[:1].upper()}{part[1:]}"
        return f"email{step}{part}"

    def accepts(self, name: str) -> bool:
        """Tell whether ``name`` is a valid custom field name here."""
        return (
            re.fullmatch(self.name_rule, name) is not None
            and (self.max_name_length is None or len(name) <= self.max_name_length)
            and name.casefold() not in self.reserved
        )

    def merge_tag(self, name: str, slot: int) -> str:
        """The tag that inserts custom field ``name`` (the ``slot``-th) in a template."""
        return self.tag.replace("{name}", name).replace("{slot}", str(slot))


def _headers(*names: str) -> dict[str, str]:
    """``{contact field: header}`` in the order of :data:`CONTACT_FIELDS`; "" leaves one out."""
    return {name: header for name, header in zip(CONTACT_FIELDS, names, strict=True) if header}


# The plain English names most import wizards map by themselves.
_PLAIN: Final = _headers(
    "Email", "First Name", "Last Name", "Company", "Title", "Phone", "LinkedIn URL", "Website"
)
_BOM: Final = "UTF-8 with a BOM, as Excel's 'CSV UTF-8' writes it"
_SNAKE_NAMES: Final = "custom field names of letters, digits and _, starting with a letter"

SEQUENCERS: Final[Mapping[str, Sequencer]] = {
    s.key: s
    for s in (
        Sequencer(
            key="instantly",
            title="Instantly",
            standard=_headers(
                "email",
                "first_name",
                "last_name",
                "company_name",
                "job_title",
                "phone",
                "linkedin_url",
                "website",
            ),
            line_break="<br>",
            import_steps=(
                "Leads > Add leads > Upload CSV, check the mapping (the email_* columns "
                "become custom variables), then put the tags in each step of the sequence"
            ),
            documented=(
                "a lead carries a 'variables' object of custom variables set per lead "
                "(https://app.theneo.io/instantly-ai/instantlyapidocs/lead/lead-variable-or-set)",
            ),
            assumed=(
                "standard headers email, first_name, last_name, company_name, job_title, "
                "phone, website (the lead fields of Instantly's API); linkedin_url becomes "
                "a custom variable",
                "each other column becomes a custom variable named after its header, "
                "inserted as {{header}}; " + _SNAKE_NAMES,
                "line breaks in a body written as <br>: Instantly's editor is HTML and "
                "inserts variables unescaped, so a plain newline would be lost",
                _BOM,
            ),
        ),
        Sequencer(
            key="smartlead",
            title="Smartlead",
            standard=_headers(
                "email",
                "first_name",
                "last_name",
                "company_name",
                "",  # no job title field: it travels as custom field "title"
                "phone_number",
                "linkedin_profile",
                "website",
            ),
            max_custom_fields=20,
            line_break="<br>",
            import_steps=(
                "Campaign > Import leads > upload the CSV, map the email_* columns as "
                "custom fields, then put the tags in each sequence step"
            ),
            documented=(
                "custom fields are stored per lead and inserted in sequences as "
                "{{field_name}} (https://api.smartlead.ai/guides/lead-management)",
                "standard lead fields first_name, last_name, phone_number, company_name, "
                "website, location, linkedin_profile, company_url "
                "(https://docs.getcargo.ai/integration/smartlead, mirroring Smartlead's API)",
            ),
            assumed=(
                "at most 20 custom fields per lead (the API reference's limit on "
                "custom_fields; not confirmed for CSV uploads): 9 email steps and the title",
                "the job title has no standard field; it travels as custom field 'title'",
                _SNAKE_NAMES,
                "line breaks in a body written as <br> (HTML editor, variables unescaped)",
                _BOM,
            ),
        ),
        Sequencer(
            key="lemlist",
            title="lemlist",
            standard=_headers(
                "email",
                "firstName",
                "lastName",
                "companyName",
                "jobTitle",
                "phone",
                "linkedinUrl",
                "companyDomain",
            ),
            naming="camel",
            name_rule=r"[A-Za-z][A-Za-z0-9]*",
            reserved=frozenset(
                n.casefold()
                for n in (
                    "email",
                    "firstName",
                    "lastName",
                    "picture",
                    "phone",
                    "linkedinUrl",
                    "companyName",
                    "companyDomain",
                    "icebreaker",
                )
            ),
            line_break="<br>",
            import_steps=(
                "Campaign > Leads > Import > CSV, keep each email* column as a custom "
                "variable, then put the tags in each step"
            ),
            documented=(
                "default lead variables email, firstName, lastName, picture, phone, "
                "linkedinUrl, companyName, companyDomain, icebreaker; a custom variable "
                "cannot take one of their names; variables are inserted as {{variableName}} "
                "(https://developer.lemlist.com/api-reference/endpoints/leads/add-lead-variables)",
            ),
            assumed=(
                "custom variable names in camelCase of letters and digits (email1Subject), "
                "spelled like lemlist's own; no spaces or _",
                "jobTitle written like the default variables (a custom variable where the "
                "account has no such field)",
                "line breaks in a body written as <br> (HTML editor)",
                _BOM,
            ),
        ),
        Sequencer(
            key="hubspot",
            title="HubSpot",
            standard=_headers(
                "Email",
                "First Name",
                "Last Name",
                "Company Name",
                "Job Title",
                "Phone Number",
                "LinkedIn URL",
                "Website URL",
            ),
            name_rule=r"[a-z][a-z0-9_]*",
            max_name_length=100,
            max_value_length=65_536,
            max_rows=1_048_576,
            multi_value_separator=";",
            tag="{{ contact.{name} }}",
            import_steps=(
                "create contact properties email_1_subject, email_1_body, ... (multi-line "
                "text) first; then Contacts > Import > file from computer, and use the "
                "tokens in a sequence or marketing email"
            ),
            documented=(
                "a .csv with one header row, each header matching a property; under 1,000 "
                "columns; UTF-8 if it holds non-English characters; at most 1,048,576 rows "
                "a file (https://knowledge.hubspot.com/import-and-export/set-up-your-import-file)",
                "multiple checkbox values separated by ; "
                "(https://developers.hubspot.com/docs/api/crm/properties)",
                "templates read contact properties as contact.<internal name> "
                "(https://developers.hubspot.com/docs/cms/reference/hubl/variables)",
                "internal property names: lower-case letters, digits and _, starting with "
                "a letter, at most 100 characters (HubSpot's knowledge base, as cited by "
                "https://hubhorizon.io/blog/hubspot-property-naming-conventions)",
            ),
            assumed=(
                "standard headers are the default properties' labels; 'LinkedIn URL' maps "
                "only where the portal has such a property",
                "text properties hold up to 65,536 characters",
                "line breaks stay newlines: a multi-line text property keeps them, and "
                "HubSpot escapes HTML in contact properties",
                _BOM,
            ),
        ),
        Sequencer(
            key="apollo",
            title="Apollo",
            standard=_headers(
                "Email",
                "First Name",
                "Last Name",
                "Company Name",
                "Title",
                "Phone",
                "Person Linkedin Url",
                "Company Website",
            ),
            max_rows=10_000,
            multi_value_separator=";",
            import_steps=(
                "create contact custom fields email_1_subject, ... (Settings > Objects, "
                "fields); then People > Import > CSV, map each column, and insert the "
                "fields in the sequence's steps"
            ),
            documented=(
                "a contacts CSV needs a company name, company website, LinkedIn URL or "
                "email column; multi-select values separated by ;; checkboxes True/False; "
                "websites as a bare domain; under 10,000 rows a file; delimiters , ; : | "
                "(https://knowledge.apollo.io/hc/en-us/articles/4409161532045)",
                "first name, last name, company name, title, email and LinkedIn URL are "
                "default contact fields "
                "(https://knowledge.apollo.io/hc/en-us/articles/20336914916365)",
            ),
            assumed=(
                "the headers are the wizard's names for those fields",
                _SNAKE_NAMES + "; merge tag {{email_1_subject}} (the sequence editor's "
                "variable picker inserts the exact tag)",
                "line breaks stay newlines (the field is stored as text)",
                _BOM,
            ),
        ),
        Sequencer(
            key="salesloft",
            title="Salesloft",
            standard=_PLAIN,
            multi_value_separator=";",
            import_steps=(
                "create person custom fields email_1_subject, ... first; then People > "
                "Import > CSV, map each column, and insert the fields as dynamic tags in "
                "the cadence's email steps"
            ),
            documented=(
                "people imported by CSV are matched to Salesforce by email "
                "(https://support.salesloft.com/hc/en-us/articles/211874106)",
            ),
            assumed=(
                "standard headers, custom field names and the tag syntax: no import "
                "specification was found; Salesloft's dynamic tags read {{first_name}}, so "
                "custom fields are {{email_1_subject}}; " + _SNAKE_NAMES,
                "line breaks stay newlines",
                _BOM,
            ),
        ),
        Sequencer(
            key="outreach",
            title="Outreach",
            standard=_PLAIN,
            max_custom_fields=150,
            max_value_length=30_000,
            max_rows=100_000,
            multi_value_separator=";",
            tag="{{custom{slot}}}",
            import_steps=(
                "Prospects > Import > CSV (Bulk Create), map email_1_subject to Custom 1, "
                "email_1_body to Custom 2, ... in column order, then use {{custom1}}, "
                "{{custom2}}, ... in the sequence's templates"
            ),
            documented=(
                "prospect custom fields hold up to 30K characters "
                "(https://support.outreach.io/hc/en-us/articles/219124908)",
            ),
            assumed=(
                "prospects have numbered custom fields custom1 ... custom150 (the API's "
                "names), inserted as {{custom1}}; the CSV keeps readable headers and the "
                "import wizard maps them to numbers, in column order",
                "at most 100,000 rows a file",
                "where custom1 ... are taken in the org, map to free numbers and change "
                "the tags to match",
                _BOM,
            ),
        ),
        Sequencer(
            key="merge-fields",
            title="Any sequencer: merge fields every preset accepts",
            standard=_PLAIN,
            naming="flat",
            name_rule=r"[a-z][a-z0-9]*",
            max_name_length=20,
            max_custom_fields=20,
            max_value_length=30_000,
            max_rows=10_000,
            multi_value_separator=";",
            import_steps=(
                "upload the CSV in the sequencer's import, keep email1subject, email1body, "
                "... as custom fields, and insert them with its merge-tag syntax"
            ),
            documented=(),
            assumed=(
                "the intersection of the presets' rules: lower-case letters and digits, "
                "starting with a letter, at most 20 characters (HubSpot wants lower case, "
                "lemlist no _), at most 20 custom fields (Smartlead), values up to 30,000 "
                "characters (Outreach), 10,000 rows (Apollo)",
                "the standard headers are the plain English names most wizards map",
                _BOM,
            ),
        ),
    )
}


def sequencer(key: str) -> Sequencer:
    """The declaration of ``format=key``.

    Args:
        key: One of :data:`SEQUENCER_FORMATS`.

    Returns:
        The :class:`Sequencer`.

    Raises:
        ArgumentError: ``key`` is no known format (the formats are listed).

    Example:
        >>> sequencer("instantly").merge_tag("email_1_subject", 1)
        '{{email_1_subject}}'

    """
    if isinstance(key, str) and key in SEQUENCERS:
        return SEQUENCERS[key]
    raise ArgumentError(
        f"format must be one of {', '.join(map(repr, SEQUENCER_FORMATS))} (or None for "
        f"octave_frames' own CSV), not {key!r}"
    )


def custom_field_names(key: str, steps: int) -> list[str]:
    """The custom fields a ``format=key`` export carries for ``steps`` email steps.

    Args:
        key: One of :data:`SEQUENCER_FORMATS`.
        steps: How many email steps.

    Returns:
        Step 1's subject and body, then step 2's, ...

    Raises:
        ArgumentError: ``key`` is no known format.

    Example:
        >>> custom_field_names("lemlist", 1)
        ['email1Subject', 'email1Body']

    """
    preset = sequencer(key)
    return [preset.field_name(i, part) for i in range(1, steps + 1) for part in _PARTS]


def merge_tags(key: str, steps: int = 3) -> dict[str, str]:
    """What to paste into the sequencer's template for each custom field.

    Args:
        key: One of :data:`SEQUENCER_FORMATS`.
        steps: How many email steps.

    Returns:
        ``{CSV header: merge tag}``, step 1's subject first.

    Raises:
        ArgumentError: ``key`` is no known format.

    Example:
        >>> merge_tags("hubspot", 1)["email_1_body"]
        '{{ contact.email_1_body }}'

    """
    preset = sequencer(key)
    names = custom_field_names(key, steps)
    return {name: preset.merge_tag(name, slot) for slot, name in enumerate(names, start=1)}
