//! `Phone::parse` against libphonenumber itself: every number of
//! `data/phone_corpus.json` (made by `data/make_phone_corpus.py` from libphonenumber's
//! data for 40 regions), in every spelling, gets the verdict libphonenumber gives it
//! in that region: the same E.164 number, `invalid_phone` or `phone_not_mobile`.

use chitchat_domain::user::{Phone, Region};
use serde_json::Value;

const CORPUS: &str = include_str!("data/phone_corpus.json");

fn ours(written: &str, region: Region) -> String {
    match Phone::parse(written, region) {
        Ok(phone) => phone.as_str().to_owned(),
        Err(error) => error.code().to_string(),
    }
}

#[test]
fn every_spelling_of_every_number_gets_libphonenumbers_verdict() {
    let corpus: Value = serde_json::from_str(CORPUS).expect("corpus is JSON");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for entry in corpus["entries"].as_array().expect("entries") {
        let code = entry["region"].as_str().expect("region");
        let region = Region::parse(code).unwrap_or_else(|_| panic!("region {code}"));
        for form in entry["forms"].as_array().expect("forms") {
            let (written, expected) = (form[0].as_str().expect("spelling"), form[1].as_str().expect("verdict"));
            let got = ours(written, region);
            if got != expected {
                wrong.push(format!("{code} {written:?} ({}): libphonenumber {expected}, we {got}", entry["source"]));
            }
            checked += 1;
        }
    }
    assert!(checked > 10_000, "only {checked} spellings");
    assert!(wrong.is_empty(), "{} of {checked} spellings differ:\n{}", wrong.len(), wrong.join("\n"));
}

#[test]
fn indian_mobiles_that_begin_with_91_are_accepted_when_written_nationally() {
    let india = Region::parse("IN").unwrap();
    for written in ["9112345678", "091123 45678", "+91 91123 45678", "0091 9112345678", "(911) 234-5678"] {
        assert_eq!(ours(written, india), "+919112345678", "{written:?}");
    }
}
