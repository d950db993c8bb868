//! Character references: `&#169;`, `&#xA9;` and the named ones models
//! actually write. The full HTML5 table (2,125 names) would cost the wasm
//! about 20 KB; this one is the HTML 4 symbols, the Latin-1 letters and the
//! Greek alphabet's common letters, about 1 KB. An unknown name stays text,
//! as the spec says it must.

/// Each entry is a name (ASCII letters and digits) followed by its value,
/// one character that is not an ASCII letter or digit.
const NAMED: &str = "amp&lt<gt>quot\"apos'nbsp\u{a0}iexcl¡cent¢pound£curren¤yen¥brvbar¦sect§\
uml¨copy©ordfªlaquo«not¬shy\u{ad}reg®macr¯deg°plusmn±sup2²sup3³acute´microµpara¶middot·\
cedil¸sup1¹ordmºraquo»frac14¼frac12½frac34¾iquest¿times×divide÷\
Agrave\u{c0}Aacute\u{c1}Acirc\u{c2}Atilde\u{c3}Auml\u{c4}Aring\u{c5}AElig\u{c6}Ccedil\u{c7}\
Egrave\u{c8}Eacute\u{c9}Ecirc\u{ca}Euml\u{cb}Igrave\u{cc}Iacute\u{cd}Icirc\u{ce}Iuml\u{cf}\
ETH\u{d0}Ntilde\u{d1}Ograve\u{d2}Oacute\u{d3}Ocirc\u{d4}Otilde\u{d5}Ouml\u{d6}Oslash\u{d8}\
Ugrave\u{d9}Uacute\u{da}Ucirc\u{db}Uuml\u{dc}Yacute\u{dd}THORN\u{de}szlig\u{df}\
agrave\u{e0}aacute\u{e1}acirc\u{e2}atilde\u{e3}auml\u{e4}aring\u{e5}aelig\u{e6}ccedil\u{e7}\
egrave\u{e8}eacute\u{e9}ecirc\u{ea}euml\u{eb}igrave\u{ec}iacute\u{ed}icirc\u{ee}iuml\u{ef}\
eth\u{f0}ntilde\u{f1}ograve\u{f2}oacute\u{f3}ocirc\u{f4}otilde\u{f5}ouml\u{f6}oslash\u{f8}\
ugrave\u{f9}uacute\u{fa}ucirc\u{fb}uuml\u{fc}yacute\u{fd}thorn\u{fe}yuml\u{ff}\
OElig\u{152}oelig\u{153}Scaron\u{160}scaron\u{161}Yuml\u{178}fnof\u{192}circ\u{2c6}tilde\u{2dc}\
Alpha\u{391}Beta\u{392}Gamma\u{393}Delta\u{394}Theta\u{398}Lambda\u{39b}Pi\u{3a0}Sigma\u{3a3}\
Phi\u{3a6}Psi\u{3a8}Omega\u{3a9}alpha\u{3b1}beta\u{3b2}gamma\u{3b3}delta\u{3b4}epsilon\u{3b5}\
zeta\u{3b6}eta\u{3b7}theta\u{3b8}iota\u{3b9}kappa\u{3ba}lambda\u{3bb}mu\u{3bc}nu\u{3bd}xi\u{3be}\
pi\u{3c0}rho\u{3c1}sigma\u{3c3}tau\u{3c4}upsilon\u{3c5}phi\u{3c6}chi\u{3c7}psi\u{3c8}omega\u{3c9}\
ensp\u{2002}emsp\u{2003}thinsp\u{2009}zwnj\u{200c}zwj\u{200d}lrm\u{200e}rlm\u{200f}ndash–mdash—\
lsquo‘rsquo’sbquo‚ldquo“rdquo”bdquo„dagger†Dagger‡bull•hellip…permil‰prime′Prime″lsaquo‹\
rsaquo›oline‾frasl⁄euro€trade™larr←uarr↑rarr→darr↓harr↔crarr↵lArr⇐uArr⇑rArr⇒dArr⇓hArr⇔\
forall∀part∂exist∃empty∅nabla∇isin∈notin∉ni∋prod∏sum∑minus−lowast∗radic√prop∝infin∞ang∠\
and∧or∨cap∩cup∪int∫there4∴sim∼cong≅asymp≈ne≠equiv≡le≤ge≥sub⊂sup⊃sube⊆supe⊇oplus⊕otimes⊗\
perp⊥sdot⋅lceil⌈rceil⌉lfloor⌊rfloor⌋lang⟨rang⟩loz◊spades♠clubs♣hearts♥diams♦check✓cross✗\
star☆starf★";

/// The named reference `name`'s value.
fn named(name: &str) -> Option<char> {
    let mut rest = NAMED;
    while !rest.is_empty() {
        let len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
        let value = rest[len..].chars().next()?;
        if &rest[..len] == name {
            return Some(value);
        }
        rest = &rest[len + value.len_utf8()..];
    }
    None
}

/// A character reference at the start of `s` (which starts with `&`): how
/// many bytes it takes, and its text. Code points that may not appear in a
/// document (NUL, surrogates, past U+10FFFF) become U+FFFD.
pub fn decode(s: &str) -> Option<(usize, String)> {
    let b = s.as_bytes();
    let end = s.find(';')?;
    let body = &s[1..end];
    let value = if let Some(number) = body.strip_prefix('#') {
        let (digits, radix, max) = match number.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16, 6),
            None => (number, 10, 7),
        };
        let valid = (1..=max).contains(&digits.len())
            && digits.bytes().all(|c| (c as char).is_digit(radix));
        if !valid {
            return None;
        }
        let code = u32::from_str_radix(digits, radix).ok()?;
        char::from_u32(code)
            .filter(|&c| c != '\0')
            .unwrap_or('\u{fffd}')
    } else {
        let valid = (2..=32).contains(&body.len())
            && b[1].is_ascii_alphabetic()
            && body.bytes().all(|c| c.is_ascii_alphanumeric());
        if !valid {
            return None;
        }
        named(body)?
    };
    Some((end + 1, value.to_string()))
}

#[cfg(test)]
mod tests {
    // The same tests run in headless Chromium: `cargo xtask test` (wasm-bindgen-test).
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn named_and_numeric_references() {
        assert_eq!(decode("&copy; x"), Some((6, "©".into())));
        assert_eq!(decode("&amp;"), Some((5, "&".into())));
        assert_eq!(decode("&frac34;"), Some((8, "¾".into())));
        assert_eq!(decode("&#169;"), Some((6, "©".into())));
        assert_eq!(decode("&#X22;"), Some((6, "\"".into())));
        assert_eq!(decode("&#0;"), Some((4, "\u{fffd}".into())));
        assert_eq!(decode("&#xD800;"), Some((8, "\u{fffd}".into())));
        assert_eq!(decode("&MadeUpEntity;"), None);
        assert_eq!(decode("&#87654321;"), None);
        assert_eq!(decode("&copy"), None);
    }

    #[test]
    fn every_entry_of_the_table_is_well_formed() {
        let mut rest = NAMED;
        let mut count = 0;
        while !rest.is_empty() {
            let len = rest.bytes().take_while(u8::is_ascii_alphanumeric).count();
            assert!(len >= 2, "a name at {:?}", &rest[..rest.len().min(20)]);
            let value = rest[len..].chars().next().unwrap();
            assert_eq!(named(&rest[..len]), Some(value), "{}", &rest[..len]);
            rest = &rest[len + value.len_utf8()..];
            count += 1;
        }
        assert!(count > 200);
    }
}
