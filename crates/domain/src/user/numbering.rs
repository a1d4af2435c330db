//! Reading a phone number as typed the way libphonenumber reads it, on the numbering
//! plans that the `phonenumber` crate ships. Only the crate's metadata is used: its
//! parser and validator refuse real numbers that libphonenumber accepts. It reads a
//! national number that begins with the digits of its own country code (Indian
//! 91…, Brazilian 55…, Italian 39…) as if it carried that code; it strips a national
//! prefix even when what is left is no number (Russian 8 800…); and it matches the
//! plans' patterns against the start of a number only, so some numbers too long for
//! their plan pass. `crates/domain/tests/phone_corpus.rs` holds this code to
//! libphonenumber's verdicts.

use phonenumber::metadata::{Descriptor, Metadata, DATABASE};
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// libphonenumber's bounds on a national significant number.
const MIN_NATIONAL: usize = 2;
const MAX_NATIONAL: usize = 17;
const MAX_COUNTRY_CODE: usize = 3;

/// What a valid number is for, as far as logging in is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Reach {
    /// Mobile, or a plan where mobile and fixed-line numbers look alike.
    TextMessages,
    /// Fixed line, toll free, premium rate, VoIP, pager and the like.
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Number {
    pub e164: String,
    pub reach: Reach,
}

/// The valid number `raw` means when typed in `region`, or `None`.
pub(super) fn parse(raw: &str, region: &Metadata) -> Option<Number> {
    let (plus, digits) = digits_of(raw)?;
    let (code, national) = if plus {
        // `+` then an international prefix (`+00 91…`) is read as the prefix.
        split_country_code(&digits).or_else(|| split_country_code(after_international_prefix(&digits, region)?))?
    } else if let Some(rest) = after_international_prefix(&digits, region) {
        split_country_code(rest)?
    } else {
        (region.country_code(), without_own_country_code(&digits, region))
    };
    let plan = plan_for_code(code, region)?;
    let stripped = strip_national_prefix(&national, plan);
    let national = match length_fits(&stripped, plan) {
        Length::TooShort | Length::LocalOnly | Length::Invalid => national,
        Length::Possible | Length::TooLong => stripped,
    };
    if !(MIN_NATIONAL..=MAX_NATIONAL).contains(&national.len()) {
        return None;
    }
    let reach = match number_type(code, &national)? {
        Type::Mobile | Type::FixedLineOrMobile => Reach::TextMessages,
        Type::Other => Reach::Other,
    };
    Some(Number { e164: format!("+{code}{national}"), reach })
}

/// Whether a leading `+` was typed, and the digits. Besides digits only the spacing
/// and punctuation people write numbers with are allowed; a `+` comes before them.
fn digits_of(raw: &str) -> Option<(bool, String)> {
    let mut plus = false;
    let mut digits = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '0'..='9' => digits.push(c),
            // Full-width digits, as typed with East Asian input methods.
            '\u{FF10}'..='\u{FF19}' => digits.push(char::from(b'0' + (u32::from(c) - 0xFF10) as u8)),
            '+' | '\u{FF0B}' if digits.is_empty() => plus = true,
            ' ' | '\t' | '-' | '.' | '(' | ')' | '[' | ']' | '/' | '~' => {}
            '\u{00A0}' | '\u{00AD}' | '\u{200B}' | '\u{2060}' | '\u{3000}' | '\u{2010}'..='\u{2015}' | '\u{2212}' => {}
            '\u{30FC}' | '\u{FF0D}'..='\u{FF0F}' | '\u{FF08}' | '\u{FF09}' | '\u{FF3B}' | '\u{FF3D}' => {}
            '\u{2053}' | '\u{223C}' | '\u{FF5E}' => {}
            _ => return None,
        }
    }
    Some((plus, digits))
}

/// The rest of `digits` after the region's international prefix (`00`, `011`, `810`…),
/// unless what follows it starts with 0, which no country code does.
fn after_international_prefix<'a>(digits: &'a str, region: &Metadata) -> Option<&'a str> {
    let prefix = anchored(region.international_prefix()?.as_str(), false)?;
    let rest = &digits[prefix.find(digits)?.end()..];
    (!rest.starts_with('0')).then_some(rest)
}

/// The country code at the start of `digits` and the digits after it.
fn split_country_code(digits: &str) -> Option<(u16, String)> {
    if digits.len() <= MIN_NATIONAL || digits.starts_with('0') {
        return None;
    }
    (1..=MAX_COUNTRY_CODE.min(digits.len())).find_map(|len| {
        let code: u16 = digits[..len].parse().ok()?;
        DATABASE.by_code(&code).map(|_| (code, digits[len..].to_owned()))
    })
}

/// A number typed without `+` or an international prefix that begins with the
/// region's own country code carries that code only if it is no number of the plan
/// as typed but is one without the code, or is too long for the plan as typed.
fn without_own_country_code(digits: &str, region: &Metadata) -> String {
    let code = region.country_code().to_string();
    if let Some(rest) = digits.strip_prefix(code.as_str()) {
        let general = region.descriptors().general();
        let rest = strip_national_prefix(rest, region);
        if (!matches_pattern(digits, general) && matches_pattern(&rest, general))
            || length_fits(digits, region) == Length::TooLong
        {
            return rest;
        }
    }
    digits.to_owned()
}

/// The plan a number with country code `code` is read in: the region's own when the
/// code is the region's main one, else the code's main region (or its non-geographic
/// plan).
fn plan_for_code(code: u16, region: &Metadata) -> Option<&Metadata> {
    let main = DATABASE.by_code(&code)?.into_iter().next()?;
    Some(if main.id() == region.id() { region } else { main })
}

/// Strips the plan's national prefix (the trunk `0`, Russia's `8`, carrier codes…) or
/// applies its transform, unless a number of the plan would become no number.
fn strip_national_prefix(number: &str, plan: &Metadata) -> String {
    let unchanged = || number.to_owned();
    let pattern = match (plan.national_prefix_for_parsing(), plan.national_prefix()) {
        (Some(pattern), _) => pattern.as_str().to_owned(),
        (None, Some(prefix)) if !prefix.is_empty() => regex::escape(prefix),
        _ => return unchanged(),
    };
    let Some(prefix) = anchored(&pattern, false) else {
        return unchanged();
    };
    let Some(captures) = prefix.captures(number) else {
        return unchanged();
    };
    let general = plan.descriptors().general();
    let was_a_number = matches_pattern(number, general);
    let end = captures.get(0).map_or(0, |m| m.end());
    let last_group = captures.get(captures.len() - 1);
    let result = match plan.national_prefix_transform_rule() {
        Some(rule) if !rule.is_empty() && last_group.is_some() => {
            let mut out = String::new();
            captures.expand(&braced_groups(rule), &mut out);
            out.push_str(&number[end..]);
            out
        }
        _ => number[end..].to_owned(),
    };
    if was_a_number && !matches_pattern(&result, general) {
        return unchanged();
    }
    result
}

/// libphonenumber's transform rules say `$1`; the regex crate would read `$15` as group 15.
fn braced_groups(rule: &str) -> String {
    let mut out = String::with_capacity(rule.len() + 4);
    let mut chars = rule.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, chars.peek()) {
            ('$', Some(d)) if d.is_ascii_digit() => {
                out.push_str("${");
                out.push(*d);
                out.push('}');
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Length {
    Possible,
    LocalOnly,
    TooShort,
    TooLong,
    Invalid,
}

/// How the length of `number` fits the plan's numbers of any type.
fn length_fits(number: &str, plan: &Metadata) -> Length {
    let (possible, local) = general_lengths(plan);
    let (Some(&min), Some(&max)) = (possible.first(), possible.last()) else {
        return Length::Invalid;
    };
    let len = u16::try_from(number.len()).unwrap_or(u16::MAX);
    if local.contains(&len) {
        Length::LocalOnly
    } else if len < min {
        Length::TooShort
    } else if len > max {
        Length::TooLong
    } else if possible.contains(&len) {
        Length::Possible
    } else {
        Length::Invalid
    }
}

/// The lengths of a plan's numbers of any type, and those only dialled locally.
/// libphonenumber derives them from the types when it builds its metadata; the
/// crate leaves them empty for most plans.
fn general_lengths(plan: &Metadata) -> (Vec<u16>, Vec<u16>) {
    let d = plan.descriptors();
    let general = d.general();
    if !general.possible_length().is_empty() {
        let mut possible = general.possible_length().to_vec();
        possible.sort_unstable();
        return (possible, general.possible_local_length().to_vec());
    }
    let types = [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ];
    let mut possible: Vec<u16> =
        types.iter().flatten().flat_map(|desc| desc.possible_length().iter().copied()).collect();
    possible.sort_unstable();
    possible.dedup();
    let mut local: Vec<u16> =
        types.iter().flatten().flat_map(|desc| desc.possible_local_length().iter().copied()).collect();
    local.retain(|len| !possible.contains(len));
    local.sort_unstable();
    local.dedup();
    (possible, local)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Type {
    Mobile,
    FixedLineOrMobile,
    Other,
}

/// The type of a number, `None` when it is no valid number. With several regions
/// sharing the code (+1, +7, +44…), the region is the first whose leading digits
/// match, or that has a number of that form.
fn number_type(code: u16, national: &str) -> Option<Type> {
    let plans = DATABASE.by_code(&code)?;
    let plan = if plans.len() == 1 {
        plans.into_iter().next()?
    } else {
        plans.into_iter().find(|plan| match plan.leading_digits() {
            Some(leading) => anchored(leading.as_str(), false).is_some_and(|re| re.is_match(national)),
            None => type_in(plan, national).is_some(),
        })?
    };
    type_in(plan, national)
}

fn type_in(plan: &Metadata, national: &str) -> Option<Type> {
    let d = plan.descriptors();
    let is = |desc: Option<&Descriptor>| desc.is_some_and(|desc| matches_desc(national, desc));
    if !is_general_number(national, plan) {
        return None;
    }
    if is(d.premium_rate())
        || is(d.toll_free())
        || is(d.shared_cost())
        || is(d.voip())
        || is(d.personal_number())
        || is(d.pager())
        || is(d.uan())
        || is(d.voicemail())
    {
        return Some(Type::Other);
    }
    let same_pattern = match (d.fixed_line(), d.mobile()) {
        (Some(fixed), Some(mobile)) => fixed.national_number().as_str() == mobile.national_number().as_str(),
        _ => false,
    };
    if is(d.fixed_line()) {
        return Some(if same_pattern || is(d.mobile()) { Type::FixedLineOrMobile } else { Type::Other });
    }
    (!same_pattern && is(d.mobile())).then_some(Type::Mobile)
}

/// A number of this type: a length the type allows and its whole pattern.
fn matches_desc(national: &str, desc: &Descriptor) -> bool {
    let len = u16::try_from(national.len()).unwrap_or(u16::MAX);
    (desc.possible_length().is_empty() || desc.possible_length().contains(&len)) && matches_pattern(national, desc)
}

fn is_general_number(national: &str, plan: &Metadata) -> bool {
    let len = u16::try_from(national.len()).unwrap_or(u16::MAX);
    general_lengths(plan).0.contains(&len) && matches_pattern(national, plan.descriptors().general())
}

fn matches_pattern(national: &str, desc: &Descriptor) -> bool {
    anchored(desc.national_number().as_str(), true).is_some_and(|re| re.is_match(national))
}

/// A metadata pattern that must match from the start (and to the end, if `whole`).
/// Compiled once per pattern: a few hundred in all, shared by every request.
fn anchored(pattern: &str, whole: bool) -> Option<Arc<Regex>> {
    /// By pattern and `whole`; `None` for a pattern that does not compile.
    type Compiled = HashMap<(String, bool), Option<Arc<Regex>>>;
    static COMPILED: OnceLock<Mutex<Compiled>> = OnceLock::new();
    let mut compiled = COMPILED.get_or_init(Mutex::default).lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    compiled
        .entry((pattern.to_owned(), whole))
        .or_insert_with(|| {
            let source = if whole { format!("^(?:{pattern})$") } else { format!("^(?:{pattern})") };
            RegexBuilder::new(&source).ignore_whitespace(true).build().ok().map(Arc::new)
        })
        .clone()
}
