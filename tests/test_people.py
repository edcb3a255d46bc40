"""Tests for `octave_frames._people`: which rows are one person."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from octave_frames._people import Group, People, describe, find_people, representatives

AGENT = {"agentOId": "ca_1"}


def row(**fields: Any) -> dict[str, Any]:
    """A payload with the static keys every row carries."""
    return {**AGENT, **fields}


def test_three_rows_one_address_are_one_group() -> None:
    """Rows differing only in a note and in the case of the address are one person, 3 calls."""
    payloads = [
        row(email="ann@acme.com", runtimeContext={"note": "met at expo"}),
        row(email="bob@acme.com"),
        row(email="ANN@acme.com ", runtimeContext={"note": "asked for pricing"}),
        None,
        row(email="mailto:ann@acme.com"),
    ]
    people = find_people(payloads)
    assert people.person == [0, 1, 0, None, 0]
    assert people.groups == [Group("ann@acme.com", "email", [0, 2, 4], 3)]
    assert representatives(people) == [0, 1, 0, None, 0]


@pytest.mark.parametrize(
    "url",
    [
        "https://www.linkedin.com/in/Ann-Lee/?utm=x",
        "http://uk.linkedin.com/in/ann-lee",
        "linkedin.com/in/ann-lee/",
        "https://linkedin.com/in/ann-lee#about",
        "https://www.linkedin.com/in/ann-lee/details/experience/",
        "  HTTPS://M.LINKEDIN.COM/in/ann-lee  ",
    ],
)
def test_linkedin_spellings_are_one_profile(url: str) -> None:
    """Scheme, subdomain, case, query, fragment, deeper path and slashes do not split a profile."""
    people = find_people([row(linkedInProfile="linkedin.com/in/ann-lee"), row(linkedInProfile=url)])
    assert people.person == [0, 0]
    assert [(g.identity, g.by) for g in people.groups] == [("linkedin.com/in/ann-lee", "linkedin")]


def test_percent_encoded_linkedin_slug_matches_the_plain_one() -> None:
    """A slug with accents matches its percent-encoded spelling."""
    people = find_people(
        [
            row(linkedInProfile="https://www.linkedin.com/in/ren%C3%A9-roy"),
            row(linkedInProfile="linkedin.com/in/René-Roy"),
        ]
    )
    assert people.person == [0, 0]


def test_linkedin_pages_that_are_not_people_identify_nobody() -> None:
    """A company page or another site is not a person profile, so it joins no rows."""
    people = find_people(
        [
            row(linkedInProfile="https://www.linkedin.com/company/acme", jobTitle="CEO"),
            row(linkedInProfile="https://www.linkedin.com/company/acme", jobTitle="CTO"),
            row(linkedInProfile="https://notlinkedin.com/in/ann", jobTitle="CEO"),
            row(linkedInProfile="https://notlinkedin.com/in/ann", jobTitle="CTO"),
        ]
    )
    assert people.person == [0, 1, 2, 3]
    assert people.groups == []


def test_name_and_company_ignore_case_accents_spacing_and_suffixes() -> None:
    """Name + company match across case, accents, spacing and legal suffixes like Inc./GmbH."""
    payloads = [
        row(firstName="José", lastName="Núñez", companyName="Acme, Inc.", jobTitle="CEO"),
        row(firstName="jose", lastName="  NUNEZ ", companyName="ACME", jobTitle="Chief Executive"),
        row(firstName="Jose", lastName="Nunez", companyName="Acme Inc"),
        row(firstName="José", lastName="Núñez", companyName="acme gmbh"),
        row(firstName="José", lastName="Núñez", companyName="Acme Co. Ltd."),
    ]
    people = find_people(payloads)
    assert people.person == [0, 0, 0, 0, 0]
    assert people.groups == [Group("José Núñez at Acme, Inc.", "name+company", [0, 1, 2, 3, 4], 5)]


def test_name_matches_on_company_domain() -> None:
    """The same name at the same company domain is one person; names never match domains."""
    payloads = [
        row(firstName="Ann", lastName="Lee", companyDomain="acme.com", jobTitle="CEO"),
        row(firstName="Ann", lastName="Lee", companyDomain="acme.com", jobTitle="CTO"),
        row(firstName="Ann", lastName="Lee", companyName="acme.com", jobTitle="COO"),
    ]
    people = find_people(payloads)
    assert people.person == [0, 0, 1]
    assert [(g.identity, g.rows) for g in people.groups] == [("Ann Lee at acme.com", [0, 1])]


def test_name_and_company_name_or_domain_chain_into_one_person() -> None:
    """A row with both company name and domain links rows that have only one of them."""
    payloads = [
        row(firstName="Ann", lastName="Lee", companyName="Acme", jobTitle="A"),
        row(firstName="Ann", lastName="Lee", companyName="Acme", companyDomain="acme.com"),
        row(firstName="Ann", lastName="Lee", companyDomain="acme.com", jobTitle="C"),
    ]
    assert find_people(payloads).person == [0, 0, 0]


def test_same_name_at_different_companies_is_two_people() -> None:
    """Ann Lee at Acme and Ann Lee at Globex are two people."""
    payloads = [
        row(firstName="Ann", lastName="Lee", companyName="Acme"),
        row(firstName="Ann", lastName="Lee", companyName="Globex"),
        row(firstName="Ann", lastName="Leeds", companyName="Acme"),
    ]
    people = find_people(payloads)
    assert people.person == [0, 1, 2]
    assert people.groups == []


def test_missing_last_name_only_matches_missing_last_name() -> None:
    """A first name without a last name is its own name, not a wildcard."""
    payloads = [
        row(firstName="Ann", companyName="Acme", jobTitle="A"),
        row(firstName="Ann", companyName="Acme", jobTitle="B"),
        row(firstName="Ann", lastName="Lee", companyName="Acme"),
        row(lastName="Lee", companyName="Acme"),
    ]
    assert find_people(payloads).person == [0, 0, 1, 2]


def test_different_emails_are_two_people_and_a_nameonly_row_joins_neither() -> None:
    """Two addresses with one name are two people; a row with only that name joins neither."""
    payloads = [
        row(email="ann@acme.com", firstName="Ann", lastName="Lee", companyName="Acme"),
        row(email="a.lee@acme.com", firstName="Ann", lastName="Lee", companyName="Acme"),
        row(firstName="Ann", lastName="Lee", companyName="Acme", jobTitle="CEO"),
        row(firstName="Ann", lastName="Lee", companyName="Acme", jobTitle="CTO"),
    ]
    people = find_people(payloads)
    # The name-only rows stay apart too: in this tangle nobody is joined by name.
    assert people.person == [0, 1, 2, 3]
    assert people.groups == []


def test_a_nameonly_row_joins_the_one_emailed_person_with_that_name() -> None:
    """Without a rival address, a row with only name + company joins the emailed person."""
    payloads = [
        row(email="ann@acme.com", firstName="Ann", lastName="Lee", companyName="Acme"),
        row(firstName="ann", lastName="lee", companyName="Acme Inc", jobTitle="CEO"),
    ]
    people = find_people(payloads)
    assert people.person == [0, 0]
    assert people.groups == [Group("ann@acme.com", "name+company", [0, 1], 2)]


def test_an_email_row_joins_a_linkedin_row_by_name() -> None:
    """An email-only row and a LinkedIn-only row share no strong key, so the name decides."""
    payloads = [
        row(email="ann@acme.com", firstName="Ann", lastName="Lee", companyName="Acme"),
        row(linkedInProfile="linkedin.com/in/annlee", firstName="Ann", lastName="Lee",
            companyName="Acme"),
    ]  # fmt: skip
    assert find_people(payloads).person == [0, 0]


def test_different_linkedin_profiles_are_two_people_whatever_the_name() -> None:
    """Two different profiles with one name are two people; a name-only row joins neither."""
    payloads = [
        row(linkedInProfile="linkedin.com/in/ann-lee-1", firstName="Ann", lastName="Lee",
            companyName="Acme"),
        row(linkedInProfile="linkedin.com/in/ann-lee-2", firstName="Ann", lastName="Lee",
            companyName="Acme"),
        row(firstName="Ann", lastName="Lee", companyName="Acme"),
    ]  # fmt: skip
    assert find_people(payloads).person == [0, 1, 2]


def test_emails_decide_over_a_shared_linkedin_profile() -> None:
    """Two addresses on one profile stay two people; profile-only rows join neither address."""
    payloads = [
        row(email="ann@acme.com", linkedInProfile="linkedin.com/in/ann"),
        row(email="ann@home.net", linkedInProfile="linkedin.com/in/ann"),
        row(linkedInProfile="https://www.linkedin.com/in/ann/", jobTitle="CEO"),
        row(linkedInProfile="linkedin.com/in/ann", jobTitle="CTO"),
    ]
    people = find_people(payloads)
    assert people.person == [0, 1, 2, 2]
    assert [(g.identity, g.rows) for g in people.groups] == [("linkedin.com/in/ann", [2, 3])]


def test_linkedin_joins_a_profile_only_row_to_its_email() -> None:
    """A row with only the profile joins the one address that has it, joined by linkedin."""
    payloads = [
        row(email="ann@acme.com", linkedInProfile="linkedin.com/in/ann"),
        row(email="bob@acme.com"),
        row(linkedInProfile="https://uk.linkedin.com/in/Ann?trk=1", jobTitle="CEO"),
    ]
    people = find_people(payloads)
    assert people.person == [0, 1, 0]
    assert people.groups == [Group("ann@acme.com", "linkedin", [0, 2], 2)]


def test_one_email_keeps_rows_together_whatever_the_other_fields_say() -> None:
    """Rows with one address are one person even with different names and profiles."""
    payloads = [
        row(email="ann@acme.com", firstName="Ann", linkedInProfile="linkedin.com/in/a"),
        row(email="ann@acme.com", firstName="Anne", linkedInProfile="linkedin.com/in/b"),
    ]
    assert find_people(payloads).groups == [Group("ann@acme.com", "email", [0, 1], 2)]


def test_identical_payloads_are_one_call_not_a_group() -> None:
    """Identical payloads are one request: one person, one call, so no group."""
    same = row(email="ann@acme.com", runtimeContext={"note": "x", "b": "y"})
    reordered = row(runtimeContext={"b": "y", "note": "x"}, email="ann@acme.com")
    people = find_people([same, dict(same), reordered])
    assert people.person == [0, 0, 0]
    assert people.groups == []


def test_identical_payloads_without_identity_are_one_person() -> None:
    """Rows no key identifies are still one person when their requests are identical."""
    payloads = [row(crmContactId="7"), row(crmContactId="7"), row(crmContactId="8")]
    people = find_people(payloads)
    assert people.person == [0, 0, 1]
    assert representatives(people) == [0, 0, 2]


def test_calls_count_distinct_payloads() -> None:
    """Four rows with two distinct payloads are one person with two calls."""
    a = row(email="ann@acme.com", jobTitle="CEO")
    b = row(email="ann@acme.com", jobTitle="CTO")
    people = find_people([a, b, dict(a), dict(b)])
    assert people.groups == [Group("ann@acme.com", "email", [0, 1, 2, 3], 2)]


def test_no_payload_rows_are_nobody() -> None:
    """Rows without a payload get no person and no representative."""
    people = find_people([None, None])
    assert people == People(person=[None, None], groups=[])
    assert representatives(people) == [None, None]
    assert find_people([]) == People(person=[], groups=[])


def test_person_numbers_and_groups_have_a_stable_order() -> None:
    """Persons are numbered by first row; groups sort by calls, then rows, then first row."""
    payloads = [
        row(email="c@x.com"),
        row(email="b@x.com", jobTitle="1"),
        row(email="a@x.com", jobTitle="1"),
        row(email="a@x.com", jobTitle="2"),
        row(email="b@x.com", jobTitle="2"),
        row(email="c@x.com", jobTitle="2"),
        row(email="c@x.com", jobTitle="3"),
        row(email="b@x.com", jobTitle="2"),
    ]
    people = find_people(payloads)
    assert people.person == [0, 1, 2, 2, 1, 0, 0, 1]
    assert [(g.identity, g.calls, g.rows) for g in people.groups] == [
        ("c@x.com", 3, [0, 5, 6]),
        ("b@x.com", 2, [1, 4, 7]),
        ("a@x.com", 2, [2, 3]),
    ]
    assert find_people(payloads) == people


def test_representative_is_the_first_row_with_a_payload() -> None:
    """Each row takes the answer of its person's first row."""
    payloads = [None, row(email="b@x.com"), row(email="a@x.com"), None, row(email="B@x.com ")]
    assert representatives(find_people(payloads)) == [None, 1, 2, None, 1]


def test_describe_uses_labels_and_counts_the_rest() -> None:
    """Lines name rows by index label; past the limit a last line counts the others."""
    groups = [
        Group("ann@acme.com", "email", [0, 2, 4], 3),
        Group("Ann Lee at Acme", "name+company", [1, 3], 2),
        Group("bob@acme.com", "email", [5, 6], 2),
    ]
    labels = ["a", "b", "c", "d", "e", 10, 11]
    assert describe(groups, labels, limit=2) == [
        "ann@acme.com: rows a, c, e would get 3 sequences",
        "Ann Lee at Acme (matched on name and company): rows b, d would get 2 sequences",
        "... and 1 more people",
    ]
    assert describe(groups, labels) == describe(groups, labels, limit=3)
    assert (
        describe(groups, labels, limit=3)[-1] == "bob@acme.com: rows 10, 11 would get 2 sequences"
    )
    assert describe([], labels) == []


def test_describe_shortens_long_row_lists() -> None:
    """A person on many rows shows the first ten labels and the row count."""
    group = Group("ann@acme.com", "email", list(range(25)), 25)
    (line,) = describe([group], list(range(100, 125)))
    assert line == (
        "ann@acme.com: rows 100, 101, 102, 103, 104, 105, 106, 107, 108, 109, ... (25 rows) "
        "would get 25 sequences"
    )


def test_describe_rejects_bad_arguments() -> None:
    """A negative limit or labels shorter than the rows are errors, not garbled lines."""
    group = Group("ann@acme.com", "email", [0, 3], 2)
    with pytest.raises(ValueError, match="limit"):
        describe([group], ["a", "b", "c", "d"], limit=-1)
    with pytest.raises(ValueError, match="labels"):
        describe([group], ["a", "b"])


def test_end_to_end_on_a_frame() -> None:
    """describe() over find_people() on a small frame tells the dry-run story."""
    payloads = [
        row(email="ann@acme.com", runtimeContext={"n": "1"}),
        row(email="ann@ACME.com", runtimeContext={"n": "2"}),
        row(email="ann@acme.com", runtimeContext={"n": "3"}),
    ]
    assert describe(find_people(payloads).groups, [2, 5, 9]) == [
        "ann@acme.com: rows 2, 5, 9 would get 3 sequences"
    ]


def test_many_rows_run() -> None:
    """A 100k-row frame with duplicates, name-only and profile-only rows runs through."""
    rng = random.Random(7)
    firsts = ["Ann", "Bob", "José", "Li", "Zoë"]
    payloads: list[dict[str, Any] | None] = []
    for i in range(100_000):
        k = rng.randrange(30_000)
        kind = i % 10
        base = {"firstName": firsts[k % 5], "lastName": f"L{k}", "companyName": f"Co {k % 97}"}
        if kind == 0:
            payloads.append(None)
        elif kind == 1:
            payloads.append(row(**base, jobTitle=str(i % 3)))
        elif kind == 2:
            payloads.append(row(linkedInProfile=f"https://www.linkedin.com/in/p{k}/", **base))
        else:
            payloads.append(row(email=f"p{k}@x.com", **base, runtimeContext={"n": str(i % 2)}))
    people = find_people(payloads)
    assert len(people.person) == 100_000
    assert people.groups
    assert sum(p is None for p in people.person) == 10_000


# Few values, so rows collide often: the interesting cases are shared names and addresses.
_emails = st.sampled_from(["a@x.com", "A@x.com", " b@x.com", "mailto:c@x.com", None, None])
_links = st.sampled_from(["linkedin.com/in/a", "https://www.linkedin.com/in/A/", "x", None])
_firsts = st.sampled_from(["Ann", "ann", "Ann", "Bob", None])
_companies = st.sampled_from(["Acme", "Acme Inc.", "Globex", None])
_payloads = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "email": _emails,
            "linkedInProfile": _links,
            "firstName": _firsts,
            "lastName": st.sampled_from(["Lee", "LEE", None]),
            "companyName": _companies,
            "jobTitle": st.sampled_from(["CEO", "CTO"]),
        },
    ),
)


def _email(payload: dict[str, Any] | None) -> str | None:
    value = None if payload is None else payload.get("email")
    return None if value is None else value.removeprefix("mailto:").strip().lower()


@settings(max_examples=300, deadline=None)
@given(st.lists(_payloads, max_size=25))
def test_person_numbers_are_consistent(payloads: list[dict[str, Any] | None]) -> None:
    """Equal emails always share a person, different emails never do, and groups agree."""
    people = find_people(payloads)
    n = len(payloads)
    assert [p is None for p in people.person] == [p is None for p in payloads]
    firsts = list(dict.fromkeys(p for p in people.person if p is not None))
    assert firsts == list(range(len(firsts)))
    for i in range(n):
        for j in range(i + 1, n):
            ei, ej = _email(payloads[i]), _email(payloads[j])
            if ei is not None and ej is not None:
                assert (ei == ej) == (people.person[i] == people.person[j])
            if payloads[i] is not None and payloads[i] == payloads[j]:
                assert people.person[i] == people.person[j]
    reps = representatives(people)
    for i, rep in enumerate(reps):
        if rep is not None:
            assert rep <= i and people.person[rep] == people.person[i]
    for group in people.groups:
        assert group.calls > 1 and len({people.person[i] for i in group.rows}) == 1


def test_a_key_only_emailed_rows_share_does_not_block_a_clear_match() -> None:
    """Two addresses sharing a company name do not stop a domain-only row joining its match."""
    payloads = [
        row(email="ann@acme.com", firstName="Ann", lastName="Lee", companyName="Acme",
            companyDomain="acme.com"),
        row(email="a.lee@acme.com", firstName="Ann", lastName="Lee", companyName="Acme"),
        row(firstName="Ann", lastName="Lee", companyDomain="acme.com", jobTitle="CEO"),
    ]  # fmt: skip
    assert find_people(payloads).person == [0, 1, 0]


def test_find_people_restores_the_garbage_collector() -> None:
    """The collector pause inside find_people leaves the caller's gc setting as it was."""
    import gc

    assert gc.isenabled()
    find_people([row(email="a@x.com")])
    assert gc.isenabled()
    gc.disable()
    try:
        find_people([row(email="a@x.com")])
        assert not gc.isenabled()
    finally:
        gc.enable()
