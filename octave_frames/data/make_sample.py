"""Write ``contacts_sample.xlsx``, the sample workbook that ``octave-frames demo`` runs on.

Run ``python -m octave_frames.data.make_sample`` after changing the rows below; the
output is byte-for-byte reproducible (fixed document dates and zip timestamps), so
the committed workbook only changes when its content does, and a test checks that the
committed file is exactly what this script writes.

Everything here is fictional: company domains use the reserved ``.example`` top-level
domain, so no row can reach a real person.
"""

from __future__ import annotations

import argparse
import io
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Final, NamedTuple

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from octave_frames.data import sample_workbook

__all__ = ["HEADERS", "build_rows", "main", "workbook_bytes"]


class _Company(NamedTuple):
    name: str
    domain: str
    zip_code: str
    employees: int
    account_id: str
    research: str
    event: str | None


class _Person(NamedTuple):
    first: str
    last: str
    title: str


HEADERS: Final = (
    "First Name",
    "Last Name",
    "Work Email",
    "Job Title",
    "Company",
    "Website",
    "LinkedIn URL",
    "Salesforce Contact ID",
    "Salesforce Account ID",
    "Zip",
    "Employees",
    "Account Research",
    "Recent Event",
    "Owner",
)

_COMPANIES: Final = (
    _Company(
        "Northpeak Logistics",
        "northpeak.example",
        "02139",
        1200,
        "0015e00000AbCdE001",
        "Opened two fulfilment hubs in the Midwest this year and is hiring 40 SDRs to sell "
        "same-day freight to mid-market retailers.",
        "Announced a Series C ($85M) in March.",
    ),
    _Company(
        "Brightwater Analytics",
        "brightwater.example",
        "94105",
        310,
        "0015e00000AbCdE002",
        "Sells forecasting software to utilities; their VP Sales posted about pipeline "
        "coverage dropping below 3x after a territory re-cut.",
        None,
    ),
    _Company(
        "Copperleaf Health",
        "copperleaf.example",
        "60601",
        2400,
        "0015e00000AbCdE003",
        "Regional clinic network moving from fax referrals to a patient portal; outbound "
        "team of 12 targets employer benefits leads.",
        "Spoke at HLTH about referral leakage.",
    ),
    _Company(
        "Fjordline Software",
        "fjordline.example",
        "10001",
        85,
        "0015e00000AbCdE004",
        "Seed-stage developer-tools company; founder-led sales, first AE hired last month, "
        "no sales playbook yet.",
        "Launched on Product Hunt (#2 product of the day).",
    ),
    _Company(
        "Harbor & Vine",
        "harborvine.example",
        "00501",
        640,
        "0015e00000AbCdE005",
        "Premium wine subscription; expanding B2B gifting, building a corporate sales team "
        "from scratch in Q3.",
        None,
    ),
    _Company(
        "Ironclad Robotics",
        "ironclad-robotics.example",
        "48201",
        3900,
        "0015e00000AbCdE006",
        "Warehouse automation vendor; long enterprise cycles (9-12 months), RevOps team "
        "consolidating three CRMs into one.",
        "Hiring a Director of Revenue Operations.",
    ),
    _Company(
        "Lumen Street Bank",
        "lumenstreet.example",
        "07302",
        5200,
        "0015e00000AbCdE007",
        "Digital bank for small businesses; commercial lending team relies on referral "
        "partners and wants more outbound.",
        None,
    ),
    _Company(
        "Mosaic Learning",
        "mosaiclearning.example",
        "78701",
        450,
        "0015e00000AbCdE008",
        "K-12 tutoring platform selling to school districts; sales cycles follow the "
        "district budget calendar (spring).",
        "Won a statewide contract in Texas.",
    ),
    _Company(
        "Nimbus Freight",
        "nimbusfreight.example",
        "30303",
        900,
        "0015e00000AbCdE009",
        "Digital freight broker; SDRs book 30% of meetings from LinkedIn, the rest from "
        "cold email with generic templates.",
        None,
    ),
    _Company(
        "Oakridge Insurance",
        "oakridge.example",
        "06103",
        7800,
        "0015e00000AbCdE010",
        "Commercial insurer launching a cyber policy for SMBs; channel team of 25 needs "
        "messaging for brokers.",
        "New Chief Revenue Officer started in January.",
    ),
    _Company(
        "Pinecrest Dental Group",
        "pinecrest.example",
        "97201",
        150,
        "0015e00000AbCdE011",
        "DSO with 30 practices; growth through acquisition, evaluating a shared patient "
        "recall and outreach system.",
        None,
    ),
    _Company(
        "Quarry Labs",
        "quarrylabs.example",
        "02110",
        60,
        "0015e00000AbCdE012",
        "Data-labelling startup; pivoting from self-serve to enterprise deals, CEO still "
        "closes every contract.",
        "Raised a $12M Series A.",
    ),
    _Company(
        "Redwood Solar",
        "redwoodsolar.example",
        "95814",
        1100,
        "0015e00000AbCdE013",
        "Commercial solar installer; door-to-door team replaced by inside sales, "
        "speed-to-lead is their stated metric.",
        None,
    ),
    _Company(
        "Saltmarsh Foods",
        "saltmarsh.example",
        "29401",
        2300,
        "0015e00000AbCdE014",
        "Regional grocery brand entering national retail; broker network and trade-spend "
        "data live in spreadsheets.",
        "Signed a distribution deal with a national chain.",
    ),
    _Company(
        "Tidewater Security",
        "tidewater.example",
        "23510",
        720,
        "0015e00000AbCdE015",
        "Managed security provider; competing against two larger rivals on price, "
        "wants sharper differentiation in outbound.",
        None,
    ),
    _Company(
        "Umbra Media",
        "umbramedia.example",
        "90028",
        340,
        "0015e00000AbCdE016",
        "Podcast ad network; sells sponsorships to DTC brands, heavy reliance on two "
        "senior sellers' relationships.",
        "Hosted a creator summit in LA.",
    ),
    _Company(
        "Vantage Payroll",
        "vantagepayroll.example",
        "84101",
        1500,
        "0015e00000AbCdE017",
        "Payroll for hourly workforces; recently added an earned-wage-access product and "
        "needs to cross-sell it to 4,000 customers.",
        None,
    ),
    _Company(
        "Westbrook Architects",
        "westbrook.example",
        "19103",
        95,
        "0015e00000AbCdE018",
        "Architecture firm winning public-sector projects; business development is "
        "partner-led and mostly RFP responses.",
        None,
    ),
    _Company(
        "Yellowfin Travel",
        "yellowfin.example",
        "33131",
        430,
        "0015e00000AbCdE019",
        "Corporate travel agency rebuilding after 2020; targets finance leaders with a "
        "spend-visibility pitch.",
        "Launched a new expense integration.",
    ),
    _Company(
        "Zephyr Biotech",
        "zephyrbio.example",
        "92121",
        260,
        "0015e00000AbCdE020",
        "Preclinical biotech licensing an assay platform to pharma; BD team of three "
        "working conference lead lists by hand.",
        None,
    ),
)

_PEOPLE: Final = (
    (_Person("Ada", "Lindqvist", "VP of Sales"), _Person("Marcus", "Obi", "SDR Manager")),
    (_Person("Priya", "Raman", "Head of Revenue Operations"), _Person("Dana", "Kim", "CRO")),
    (_Person("Tomás", "García", "Director of Growth"), _Person("Hannah", "Weiss", "COO")),
    (_Person("Sven", "Aalto", "Founder & CEO"), _Person("Leah", "Moreau", "Account Executive")),
    (_Person("Grace", "O'Connell", "VP Partnerships"), _Person("Ken", "Sato", "Head of Sales")),
    (_Person("Ravi", "Patel", "Director of RevOps"), _Person("Nora", "Fischer", "CMO")),
    (_Person("Olu", "Adeyemi", "Head of Commercial"), _Person("Zoë", "Martin", "Sales Lead")),
    (_Person("Wei", "Chen", "VP Sales"), _Person("Sofia", "Rossi", "Director of Marketing")),
    (_Person("Jamal", "Brooks", "SDR Team Lead"), _Person("Elena", "Popescu", "VP Revenue")),
    (_Person("Liam", "Walsh", "Chief Revenue Officer"), _Person("Aisha", "Khan", "Channel Lead")),
    (_Person("Mía", "Hernández", "Practice Growth Lead"), _Person("Owen", "Price", "CEO")),
    (_Person("Yuki", "Tanaka", "CEO"), _Person("Felix", "Braun", "First Account Executive")),
    (_Person("Chloe", "Dubois", "Inside Sales Manager"), _Person("Arjun", "Mehta", "VP Sales")),
    (_Person("Isabel", "Nunez", "National Sales Director"), _Person("Pete", "Kowalski", "CFO")),
    (_Person("Noah", "Schmidt", "VP Marketing"), _Person("Fatima", "Haddad", "Head of Sales")),
    (_Person("Ruby", "Evans", "Head of Partnerships"), _Person("Diego", "Silva", "Ad Sales Lead")),
    (_Person("Hugo", "Lambert", "VP Customer Growth"), _Person("Anya", "Ivanova", "CRO")),
    (_Person("Mei", "Lin", "Managing Partner"), _Person("Colin", "Byrne", "BD Director")),
    (_Person("Sara", "Berg", "CFO"), _Person("Andre", "Thomas", "VP Sales")),
    (_Person("Kofi", "Mensah", "Head of BD"), _Person("Lucía", "Torres", "Alliance Manager")),
)

_OWNERS: Final = ("Morgan Reyes", "Sam Okafor", "Jess Lindgren")

# Fixed dates keep the file byte-for-byte reproducible (openpyxl stamps "now" otherwise).
_STAMP: Final = datetime(2025, 1, 6, 9, 0, 0)
_ZIP_TIME: Final = (2025, 1, 6, 9, 0, 0)
_MODIFIED_RE: Final = re.compile(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>")
_WIDTHS: Final = {"Account Research": 60, "Recent Event": 36, "Job Title": 26, "Work Email": 34}

Row = tuple[str | int | None, ...]


def _email(person: _Person, company: _Company) -> str:
    local = f"{person.first}.{person.last}".lower().replace("'", "")
    return f"{local}@{company.domain}"


def build_rows() -> list[Row]:
    """Return the sample's data rows, in the order of `HEADERS`.

    A few rows carry the mess real exports have, on purpose: an email with stray spaces
    and capitals, a website written as a full URL, a contact with a LinkedIn profile
    but no email, and one contact listed twice (sent once: equal requests are deduped).
    """
    rows: list[Row] = []
    for number, (company, pair) in enumerate(zip(_COMPANIES, _PEOPLE, strict=True)):
        for seat, person in enumerate(pair):
            serial = 2 * number + seat + 1
            rows.append(
                (
                    person.first,
                    person.last,
                    _email(person, company),
                    person.title,
                    company.name,
                    company.domain,
                    f"https://www.linkedin.com/in/{person.first}-{person.last}-{serial:03d}".lower(),
                    f"0035e00000XyZ{serial:05d}",
                    company.account_id,
                    company.zip_code,
                    company.employees,
                    company.research,
                    company.event,
                    _OWNERS[number % len(_OWNERS)],
                )
            )
    email, website = HEADERS.index("Work Email"), HEADERS.index("Website")
    rows[3] = _replace(rows[3], email, "  Dana.Kim@Brightwater.EXAMPLE ")
    rows[6] = _replace(rows[6], website, "https://www.fjordline.example/about?ref=crm")
    rows[13] = _replace(rows[13], email, None)
    # The same contact exported twice, as CRM merges leave them.
    rows[25] = rows[24]
    return rows


def _replace(row: Row, position: int, value: str | None) -> Row:
    return (*row[:position], value, *row[position + 1 :])


def _workbook(rows: list[Row]) -> Workbook:
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new Workbook always has one sheet
    sheet.title = "Contacts"
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for position, header in enumerate(HEADERS, start=1):
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = _WIDTHS.get(header, 18)
        if header in ("Account Research", "Recent Event"):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=position, max_col=position):
                cell.alignment = wrap
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    book.properties.creator = "octave_frames"
    book.properties.created = _STAMP
    return book


def workbook_bytes() -> bytes:
    """Return the sample workbook's bytes, the same on every run and machine."""
    raw = io.BytesIO()
    _workbook(build_rows()).save(raw)
    fixed = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(raw.getvalue())) as source,
        zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                stamp = _STAMP.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                data = _MODIFIED_RE.sub(
                    rb"<dcterms:modified\1>" + stamp + rb"</dcterms:modified>", data
                )
            entry = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, data)
    return fixed.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Write the sample workbook (next to this script unless ``--output`` says where)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--output", type=Path, default=sample_workbook())
    args = parser.parse_args(argv)
    args.output.write_bytes(workbook_bytes())
    print(f"wrote {args.output} ({len(build_rows())} contacts)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
