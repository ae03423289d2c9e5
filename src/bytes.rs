//! Eight bytes at a time: tests on every byte of a `u64` at once, shared by the stages that
//! scan text byte by byte (normalise, metadata, the word count).
//!
//! Eight bytes of text are read as one little-endian `u64`; a test answers with the top bit
//! of each byte that passes it ([`TOP`] where all pass). The tests add to each byte's low
//! seven bits a constant that carries into its top bit, which no sum overflows, so bytes never
//! disturb one another. Bytes with the top bit set (beyond ASCII) pass no test.

/// One in each byte.
pub const ONES: u64 = 0x0101_0101_0101_0101;
/// The top bit of each byte.
pub const TOP: u64 = ONES * 0x80;
/// The low seven bits of each byte.
const LOW: u64 = ONES * 0x7F;

/// The eight bytes of `chunk` (eight long) as one word.
pub fn word(chunk: &[u8]) -> u64 {
    u64::from_le_bytes(chunk.try_into().expect("eight bytes"))
}

/// `bytes` as words of eight, in order; the last, when fewer than eight bytes are left, is
/// filled out with `pad`. A scan that `pad` bytes leave as they are then needs no second,
/// byte-by-byte loop for the end of the text.
pub fn words(bytes: &[u8], pad: u8) -> impl Iterator<Item = u64> + '_ {
    let chunks = bytes.chunks_exact(8);
    let rest = chunks.remainder();
    let last = (!rest.is_empty()).then(|| {
        let mut padded = [pad; 8];
        padded[..rest.len()].copy_from_slice(rest);
        u64::from_le_bytes(padded)
    });
    chunks.map(word).chain(last)
}

/// The bytes of `x` from `lo` to `hi` (both ASCII).
pub const fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    let low = x & LOW;
    let at_least_lo = low + ONES * (0x80 - lo as u64);
    let past_hi = low + ONES * (0x7F - hi as u64);
    at_least_lo & !past_hi & !x & TOP
}

/// The bytes of `x` equal to `c` (ASCII).
pub const fn equal(x: u64, c: u8) -> u64 {
    let t = (x & LOW) ^ (ONES * c as u64);
    !((t + LOW) | t) & !x & TOP
}

/// The ASCII letters of `x`, either case.
pub const fn letters(x: u64) -> u64 {
    in_range(x | (ONES * 0x20), b'a', b'z')
}

/// The ASCII white space of `x`: a space or `\t` to `\r`.
pub const fn white_space(x: u64) -> u64 {
    equal(x, b' ') | in_range(x, b'\t', b'\r')
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Each test gives, byte by byte, what the same test on one byte gives.
        #[test]
        fn eight_at_a_time_as_one_at_a_time(
            bytes in proptest::array::uniform8(0u8..=255),
            lo in 0u8..0x80,
            span in 0u8..0x80,
            c in 0u8..0x80,
        ) {
            let hi = lo.saturating_add(span).min(0x7F);
            let x = u64::from_le_bytes(bytes);
            for (k, &b) in bytes.iter().enumerate() {
                let bit = |m: u64| m >> (8 * k + 7) & 1 == 1;
                proptest::prop_assert_eq!(bit(in_range(x, lo, hi)), (lo..=hi).contains(&b));
                proptest::prop_assert_eq!(bit(equal(x, c)), b == c);
                proptest::prop_assert_eq!(bit(letters(x)), b.is_ascii_alphabetic());
                proptest::prop_assert_eq!(
                    bit(white_space(x)),
                    b == b' ' || (b'\t'..=b'\r').contains(&b)
                );
                // Nothing outside the top bits.
                proptest::prop_assert_eq!(in_range(x, lo, hi) & !TOP, 0);
            }
        }
    }

    #[test]
    fn words_pad_the_last() {
        let got: Vec<u64> = words(b"Children in care", b' ').collect();
        assert_eq!(got, [word(b"Children"), word(b" in care")]);
        let got: Vec<u64> = words(b"Children's", b'x').collect();
        assert_eq!(got, [word(b"Children"), word(b"'sxxxxxx")]);
        assert_eq!(words(b"", b' ').count(), 0);
    }

    #[test]
    fn a_word_of_eight_letters_passes_whole() {
        assert_eq!(letters(word(b"Children")), TOP);
        assert_eq!(white_space(word(b" \t\n\x0b\x0c\r  ")), TOP);
        assert_eq!(letters(word(b"\xC3\xA9t\xC3\xA9 12")), 0x80 << 16);
    }
}
