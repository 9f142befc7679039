//! The memory budget of a run (`--memory-limit`, SPEC §11): how much of a month is held at
//! once. The month streams through the same code path at every size; the budget sets its
//! strides — how many bytes of exports are read at once, how many rows wait for their row
//! groups, how large a chunk of the filing registry is, and whether two insured provinces
//! are checked side by side — so that a small month and a national one are the same
//! program with different strides.
//!
//! It budgets what streams, not the whole process, and no allocator enforces it: the
//! reference tables and the insured province being checked (one insured province is
//! checked whole) come on top, so a province larger than the budget takes what it needs
//! (SPEC §14's steps spread such a month over machines). Measured on a province month
//! (1 M settlements, 3 GB of exports), alternating runs at 09c13b0: 512MiB peaked at
//! 1.36 GiB and ran about 4% slower (it checks most parts one at a time), 1GiB at
//! 1.57 GiB, 2GiB at 2.56 GiB, 3GiB at 3.25 GiB, the last three in the same time.

use std::fmt;
use std::str::FromStr;

const MIB: u64 = 1 << 20;
const GIB: u64 = 1 << 30;

/// The smallest budget the strides make sense for.
const LEAST: u64 = 256 * MIB;

/// A memory budget in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    bytes: u64,
}

impl Budget {
    /// `--memory-limit`'s default: a province month (3 GB of exports) peaks at about
    /// 1.5 GiB with it (1.49–1.51 GiB, five runs at 4bf510d), no slower than with more.
    pub const DEFAULT: &'static str = "1GiB";

    pub fn bytes(self) -> u64 {
        self.bytes
    }

    /// Bytes of exports read in one batch (another batch is handed on meanwhile).
    pub fn batch_bytes(self) -> u64 {
        self.bytes / 16
    }

    /// Bytes of parts' rows that may wait for a full row group before the largest are
    /// written anyway.
    pub fn waiting_bytes(self) -> usize {
        (self.bytes / 16) as usize
    }

    /// Bytes of the parts' typed rows `yidi run` keeps in memory beside their files (each
    /// of the exports' and the registry's), as polars estimates them: a month that fits is
    /// checked from memory. An eighth: what is held shares the buffers of the batches it
    /// was cut from, which the estimate does not see whole (a province month held whole
    /// under an 8GiB budget peaked at 9.6 GiB, 2.8 GiB read back).
    pub fn held_bytes(self) -> usize {
        (self.bytes / 8) as usize
    }

    /// Rows of the filing registry parsed and routed at a time.
    pub fn filing_chunk_rows(self) -> usize {
        ((self.bytes / 4096) as usize).next_power_of_two()
    }

    /// Two insured provinces are checked side by side when their settlement rows and fee
    /// lines together are at most this many (a row in checking takes about 500 bytes).
    pub fn side_by_side_rows(self) -> usize {
        (self.bytes / 512) as usize
    }
}

impl Default for Budget {
    fn default() -> Budget {
        Budget::DEFAULT.parse().expect("the default budget parses")
    }
}

impl FromStr for Budget {
    type Err = String;

    /// A whole number of bytes with an optional binary unit: `2GiB`, `1536MiB`, `2G`, `512M`.
    fn from_str(text: &str) -> Result<Budget, String> {
        let text = text.trim();
        let digits = text.bytes().take_while(u8::is_ascii_digit).count();
        let (number, unit) = text.split_at(digits);
        let scale = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kib" | "kb" => 1 << 10,
            "m" | "mib" | "mb" => MIB,
            "g" | "gib" | "gb" => GIB,
            "t" | "tib" | "tb" => GIB << 10,
            _ => return Err(format!("'{text}': expected a size such as 2GiB or 512MiB")),
        };
        let bytes = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(scale))
            .ok_or_else(|| format!("'{text}': expected a size such as 2GiB or 512MiB"))?;
        if bytes < LEAST {
            return Err(format!("'{text}': at least 256MiB"));
        }
        Ok(Budget { bytes })
    }
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bytes.is_multiple_of(GIB) {
            write!(f, "{}GiB", self.bytes / GIB)
        } else if self.bytes.is_multiple_of(MIB) {
            write!(f, "{}MiB", self.bytes / MIB)
        } else {
            write!(f, "{}B", self.bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_in_binary_units_and_printed_back() {
        for (text, bytes) in [
            ("2GiB", 2 * GIB),
            ("2g", 2 * GIB),
            ("1536MiB", 1536 * MIB),
            ("512 M", 512 * MIB),
            ("1TiB", GIB << 10),
            ("268435456", 256 * MIB),
        ] {
            let budget: Budget = text.parse().unwrap();
            assert_eq!(budget.bytes(), bytes, "{text}");
            assert_eq!(budget.to_string().parse::<Budget>().unwrap(), budget);
        }
        assert_eq!(Budget::default().to_string(), "1GiB");
    }

    #[test]
    fn nonsense_and_too_little_are_refused() {
        for text in [
            "",
            "GiB",
            "2.5GiB",
            "2 furlongs",
            "-1G",
            "100MiB",
            "99999999999T",
        ] {
            assert!(text.parse::<Budget>().is_err(), "{text}");
        }
    }

    #[test]
    fn the_strides_follow_the_budget() {
        let small: Budget = "512MiB".parse().unwrap();
        let large: Budget = "8GiB".parse().unwrap();
        assert!(small.batch_bytes() < large.batch_bytes());
        assert!(small.waiting_bytes() < large.waiting_bytes());
        assert!(small.filing_chunk_rows() < large.filing_chunk_rows());
        assert!(small.side_by_side_rows() < large.side_by_side_rows());
        assert_eq!(Budget::default().filing_chunk_rows(), 1 << 18);
    }
}
