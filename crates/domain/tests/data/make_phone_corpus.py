#!/usr/bin/env python3
"""Builds phone_corpus.json, and the `phone` fuzz seeds, from libphonenumber.

Every verdict comes from libphonenumber (the `phonenumbers` port on PyPI), pinned to
the metadata release of the Rust `phonenumber` crate in Cargo.lock, so that the test
compares our parser with libphonenumber and not with itself:

    python3 -m venv /tmp/phone-venv
    /tmp/phone-venv/bin/pip install phonenumbers==9.0.33
    /tmp/phone-venv/bin/python crates/domain/tests/data/make_phone_corpus.py

For each region: libphonenumber's example number of every type, random numbers that
match its mobile pattern (some starting with the country calling code's digits) and
random ones that do not. Each number is written in the usual ways (national digits,
trunk prefix, +CC, 00CC, spaces, dashes, dots, brackets), and each spelling carries
libphonenumber's verdict for it in that region: the E.164 number when it is valid and
can receive text messages (MOBILE or FIXED_LINE_OR_MOBILE), else the error code.
"""
import json
import os
import random

import phonenumbers
from phonenumbers import PhoneNumberFormat as F
from phonenumbers import PhoneNumberType as T
from phonenumbers.phonenumberutil import _match_national_number

EXPECTED_VERSION = "9.0.33"
REGIONS = [
    "IN", "US", "GB", "DE", "BR", "NG", "ID", "CN", "RU", "KZ", "IT",
    "FR", "ES", "MX", "AR", "JP", "KR", "AU", "CA", "ZA", "EG", "PK",
    "BD", "PH", "VN", "TR", "TH", "NL", "PL", "UA", "SA", "AE", "KE",
    "CO", "CL", "NZ", "SG", "AT", "CH", "BE",
]
TYPES = {
    T.FIXED_LINE: "fixed_line", T.MOBILE: "mobile", T.TOLL_FREE: "toll_free",
    T.PREMIUM_RATE: "premium_rate", T.SHARED_COST: "shared_cost", T.VOIP: "voip",
    T.PERSONAL_NUMBER: "personal_number", T.PAGER: "pager", T.UAN: "uan",
    T.VOICEMAIL: "voicemail", T.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
}
RANDOM_MATCHING = 12
RANDOM_MATCHING_WITH_CC = 4
RANDOM_NOT_MATCHING = 8

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "../../../.."))


def verdict(written, region):
    try:
        number = phonenumbers.parse(written, region)
    except phonenumbers.NumberParseException:
        return "invalid_phone"
    if not phonenumbers.is_valid_number(number):
        return "invalid_phone"
    if phonenumbers.number_type(number) in (T.MOBILE, T.FIXED_LINE_OR_MOBILE):
        return phonenumbers.format_number(number, F.E164)
    return "phone_not_mobile"


def spellings(nsn, region, meta):
    """The usual ways of writing national significant number `nsn` in `region`."""
    cc = meta.country_code
    number = phonenumbers.PhoneNumber(country_code=cc, national_number=int(nsn))
    if nsn.startswith("0"):
        number.italian_leading_zero = True
        number.number_of_leading_zeros = len(nsn) - len(nsn.lstrip("0"))
    national = phonenumbers.format_number(number, F.NATIONAL)
    international = phonenumbers.format_number(number, F.INTERNATIONAL)
    forms = {"digits": nsn, "plus": f"+{cc}{nsn}", "idd": f"00{cc}{nsn}"}
    if meta.national_prefix:
        forms["trunk"] = meta.national_prefix + nsn
    forms["national_format"] = national
    forms["international_format"] = international
    forms["dashes"] = international.replace(" ", "-")
    forms["dots"] = national.replace(" ", ".").replace("-", ".")
    forms["idd_spaced"] = "00 " + international.lstrip("+")
    forms["brackets"] = f"+{cc} ({nsn[:3]}) {nsn[3:]}"
    return forms


def random_numbers(rng, meta, desc):
    """Random national numbers that match `desc` and that do not."""
    lengths = [n for n in desc.possible_length if n > 0] or list(meta.general_desc.possible_length)
    example = desc.example_number or ""
    matching, with_cc, not_matching = set(), set(), set()
    cc = str(meta.country_code)
    for _ in range(20000):
        length = rng.choice(lengths)
        mode = rng.random()
        if mode < 0.3 and len(cc) < length:
            head = cc
        elif mode < 0.8 and example:
            head = example[: rng.randint(0, min(4, len(example)))]
        else:
            head = ""
        nsn = head + "".join(rng.choice("0123456789") for _ in range(max(0, length - len(head))))
        nsn = nsn[:length]
        if _match_national_number(nsn, desc, False):
            if nsn.startswith(cc) and len(with_cc) < RANDOM_MATCHING_WITH_CC:
                with_cc.add(nsn)
            elif len(matching) < RANDOM_MATCHING:
                matching.add(nsn)
        elif len(not_matching) < RANDOM_NOT_MATCHING and not nsn.startswith("0"):
            not_matching.add(nsn)
        if len(matching) >= RANDOM_MATCHING and len(not_matching) >= RANDOM_NOT_MATCHING and len(with_cc) >= RANDOM_MATCHING_WITH_CC:
            break
    return sorted(matching | with_cc), sorted(not_matching)


def main():
    assert phonenumbers.__version__ == EXPECTED_VERSION, phonenumbers.__version__
    rng = random.Random(20261205)
    entries = []
    for region in REGIONS:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
        numbers = []
        for kind, name in TYPES.items():
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None and kind != T.FIXED_LINE_OR_MOBILE:
                numbers.append((f"example_{name}", phonenumbers.national_significant_number(example)))
        matching, not_matching = random_numbers(rng, meta, meta.mobile)
        numbers += [("random_mobile_pattern", n) for n in matching]
        numbers += [("random_not_mobile_pattern", n) for n in not_matching]
        for source, nsn in numbers:
            forms = spellings(nsn, region, meta)
            entries.append({
                "region": region,
                "source": source,
                "forms": [[written, verdict(written, region)] for written in dict.fromkeys(forms.values())],
            })
    with open(os.path.join(HERE, "phone_corpus.json"), "w") as out:
        out.write('{\n"libphonenumber": "%s",\n"entries": [\n' % EXPECTED_VERSION)
        out.write(",\n".join(json.dumps(e, ensure_ascii=False) for e in entries))
        out.write("\n]}\n")
    # One seed per number for the `phone` fuzz target: region code, then a spelling.
    seeds = os.path.join(ROOT, "fuzz/corpus/phone")
    for name in os.listdir(seeds):
        if name.startswith("libphonenumber_"):
            os.remove(os.path.join(seeds, name))
    for i, entry in enumerate(entries):
        written = entry["forms"][i % len(entry["forms"])][0]
        with open(os.path.join(seeds, f"libphonenumber_{entry['region']}_{i:04}"), "wb") as out:
            out.write(entry["region"].encode() + written.encode())
    print(len(entries), "numbers,", sum(len(e["forms"]) for e in entries), "spellings")


if __name__ == "__main__":
    main()
