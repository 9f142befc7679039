//! A rejected input row and the reason a person can act on.
//!
//! Reasons are structured, and rendered into words only when written, in the language of
//! the run (Chinese for agency staff by default, English with `--lang en`).

use crate::Lang;
use crate::units::NumberError;

use super::encoding::Encoding;
use super::schema::Kind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// Relative to the month directory, with `/` separators.
    pub file: String,
    /// The physical line where the row starts; the header is line 1.
    pub line: u64,
    /// Empty for row-level problems (column count, undecodable bytes).
    pub column: Option<&'static str>,
    pub reason: Reason,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    ColumnCount {
        expected: usize,
        found: usize,
    },
    Undecodable {
        encoding: Encoding,
    },
    Empty,
    BadNumber {
        kind: Kind,
        value: String,
        error: NumberError,
    },
    BadInt {
        value: String,
    },
    BadDate {
        value: String,
    },
    BadTime {
        value: String,
    },
    BadCode {
        value: String,
        allowed: &'static [&'static str],
    },
    /// med_type 14 needs its chronic disease code.
    OpspDiseaseMissing,
    UnknownArea {
        value: String,
    },
    DuplicateKey {
        key: String,
        first_line: u64,
    },
    /// A fee line whose settlement is not among the hospital's accepted settlements.
    NoSettlement {
        setl_id: String,
    },
    /// A value longer than [`super::reader::MAX_VALUE_CHARS`] characters.
    TooLong {
        chars: usize,
    },
    /// A NUL byte in the row (past the first 8 KiB of the file: before, the file is not text).
    NulByte,
    /// A row of a hospital directory set aside (SPEC §3): `problem` says what is wrong with
    /// the directory.
    SetAside {
        problem: String,
    },
    /// A decision naming no open entry of the previous ledger (SPEC §13); `closed`: the
    /// entry is there but closed.
    DecisionNoEntry {
        closed: bool,
    },
    /// A decision on an entry a reversal of this month closed.
    DecisionOnReversed,
    /// A decision paying more than the entry may release (fen).
    DecisionAmountAbove {
        amount: i64,
        may_release: i64,
    },
    /// A reason already put in words, in both languages: a reject carried from one step
    /// of a month to the next through the stage (SPEC §14).
    Worded {
        zh: String,
        en: String,
    },
}

/// At most this many characters of a value are quoted in a reason (SPEC §3).
pub const QUOTED_CHARS: usize = 40;

/// The first [`QUOTED_CHARS`] characters of a value, with `…` when it is longer.
pub fn quoted(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(QUOTED_CHARS) {
        None => std::borrow::Cow::Borrowed(value),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}…", &value[..cut])),
    }
}

fn kind_words(kind: Kind, lang: Lang) -> &'static str {
    match (kind, lang) {
        (Kind::Money, Lang::Zh) => "金额",
        (Kind::Money, Lang::En) => "money",
        (Kind::Ratio, Lang::Zh) => "比例",
        (Kind::Ratio, Lang::En) => "ratio",
        (Kind::Qty, Lang::Zh) => "数量",
        (Kind::Qty, Lang::En) => "quantity",
        (Kind::Price, Lang::Zh) => "单价",
        (Kind::Price, Lang::En) => "unit price",
        (_, Lang::Zh) => "数值",
        (_, Lang::En) => "number",
    }
}

impl Reason {
    /// The reason with every value it quotes cut to [`QUOTED_CHARS`] characters.
    fn shortened(&self) -> Reason {
        let cut = |v: &String| quoted(v).into_owned();
        match self {
            Reason::BadNumber { kind, value, error } => Reason::BadNumber {
                kind: *kind,
                value: cut(value),
                error: error.clone(),
            },
            Reason::BadInt { value } => Reason::BadInt { value: cut(value) },
            Reason::BadDate { value } => Reason::BadDate { value: cut(value) },
            Reason::BadTime { value } => Reason::BadTime { value: cut(value) },
            Reason::BadCode { value, allowed } => Reason::BadCode {
                value: cut(value),
                allowed,
            },
            Reason::UnknownArea { value } => Reason::UnknownArea { value: cut(value) },
            Reason::NoSettlement { setl_id } => Reason::NoSettlement {
                setl_id: cut(setl_id),
            },
            other => other.clone(),
        }
    }

    pub fn text(&self, lang: Lang) -> String {
        use Lang::{En, Zh};
        match (&self.shortened(), lang) {
            (Reason::ColumnCount { expected, found }, Zh) => {
                format!(
                    "列数错误：表头有 {expected} 列，此行有 {found} 列（检查分隔符、引号或截断的行）"
                )
            }
            (Reason::ColumnCount { expected, found }, En) => format!(
                "wrong column count: the header has {expected}, this row {found} (check separators, quotes or a truncated line)"
            ),
            (Reason::Undecodable { encoding }, Zh) => format!(
                "含有 {} 编码下无效的字节（文件已按 {} 读取）：请修复该行或重新导出",
                encoding.name(),
                encoding.name()
            ),
            (Reason::Undecodable { encoding }, En) => format!(
                "bytes invalid in {} (the file's detected encoding): fix the row or export it again",
                encoding.name()
            ),
            (Reason::Empty, Zh) => "必填项为空".to_string(),
            (Reason::Empty, En) => "required value is empty".to_string(),
            (Reason::BadNumber { kind, value, error }, Zh) => match error {
                NumberError::TooManyDecimals { max } => format!(
                    "{}“{value}”超过 {max} 位小数（不做舍入，请更正）",
                    kind_words(*kind, Zh)
                ),
                NumberError::Negative => format!("{}“{value}”不能为负", kind_words(*kind, Zh)),
                NumberError::AboveOne => format!("{}“{value}”大于 1", kind_words(*kind, Zh)),
                NumberError::OutOfRange => format!("{}“{value}”超出范围", kind_words(*kind, Zh)),
                NumberError::Malformed => format!(
                    "{}“{value}”格式错误（应为不带空格、千分位或指数的十进制数，如 1234.50）",
                    kind_words(*kind, Zh)
                ),
            },
            (Reason::BadNumber { kind, value, error }, En) => match error {
                NumberError::TooManyDecimals { max } => format!(
                    "{} '{value}' has more than {max} decimals (never rounded: correct it)",
                    kind_words(*kind, En)
                ),
                NumberError::Negative => {
                    format!("{} '{value}' must not be negative", kind_words(*kind, En))
                }
                NumberError::AboveOne => format!("{} '{value}' is above 1", kind_words(*kind, En)),
                NumberError::OutOfRange => {
                    format!("{} '{value}' is out of range", kind_words(*kind, En))
                }
                NumberError::Malformed => format!(
                    "{} '{value}' is not a plain decimal number like 1234.50 (no spaces, separators or exponent)",
                    kind_words(*kind, En)
                ),
            },
            (Reason::BadInt { value }, Zh) => format!("“{value}”不是整数"),
            (Reason::BadInt { value }, En) => format!("'{value}' is not a whole number"),
            (Reason::BadDate { value }, Zh) => {
                format!("日期“{value}”无效（应为 YYYY-MM-DD 格式的真实日期）")
            }
            (Reason::BadDate { value }, En) => {
                format!("date '{value}' is not a real date written YYYY-MM-DD")
            }
            (Reason::BadTime { value }, Zh) => {
                format!("时间“{value}”无效（应为 YYYY-MM-DD HH:MM:SS）")
            }
            (Reason::BadTime { value }, En) => {
                format!("time '{value}' is not a real time written YYYY-MM-DD HH:MM:SS")
            }
            (Reason::BadCode { value, allowed }, Zh) => {
                format!("代码“{value}”不在允许值 {} 之内", allowed.join("/"))
            }
            (Reason::BadCode { value, allowed }, En) => {
                format!("code '{value}' is not one of {}", allowed.join(", "))
            }
            (Reason::OpspDiseaseMissing, Zh) => {
                "门诊慢特病结算（med_type 14）缺少病种代码 opsp_dise_code".to_string()
            }
            (Reason::OpspDiseaseMissing, En) => {
                "a chronic outpatient settlement (med_type 14) needs opsp_dise_code".to_string()
            }
            (Reason::UnknownArea { value }, Zh) => {
                format!("区划代码“{value}”不在 reference/regions 中")
            }
            (Reason::UnknownArea { value }, En) => {
                format!("area '{value}' is not in reference/regions")
            }
            (Reason::DuplicateKey { key, first_line }, Zh) => {
                format!("重复键 {key}：与第 {first_line} 行重复，以首行为准")
            }
            (Reason::DuplicateKey { key, first_line }, En) => {
                format!("duplicate key {key}: repeats line {first_line}, the first line counts")
            }
            (Reason::NoSettlement { setl_id }, Zh) => {
                format!("费用明细的结算 setl_id“{setl_id}”不在本院已接收的结算中")
            }
            (Reason::NoSettlement { setl_id }, En) => format!(
                "fee line of setl_id '{setl_id}', which is not among this hospital's accepted settlements"
            ),
            (Reason::TooLong { chars }, Zh) => {
                format!(
                    "值过长：{chars} 个字符，超过 1000 个字符的上限（请检查导出是否错列或损坏）"
                )
            }
            (Reason::TooLong { chars }, En) => format!(
                "value too long: {chars} characters, above the limit of 1000 (a shifted column or a damaged export?)"
            ),
            (Reason::NulByte, Zh) => {
                "此行含有 NUL 字节（0x00）：文件可能已损坏，请重新导出".to_string()
            }
            (Reason::NulByte, En) => {
                "the row holds a NUL byte (0x00): the file may be damaged; export it again"
                    .to_string()
            }
            (Reason::SetAside { problem }, Zh) => {
                format!("导出目录被搁置，本月不清算：{problem}")
            }
            (Reason::SetAside { problem }, En) => {
                format!("export set aside, not cleared this month: {problem}")
            }
            (Reason::DecisionNoEntry { closed: false }, Zh) => {
                "上月挂账台账中没有该结算的未结条目：决定无可适用".to_string()
            }
            (Reason::DecisionNoEntry { closed: false }, En) => {
                "no open entry of the previous ledger has this key: the decision applies to nothing"
                    .to_string()
            }
            (Reason::DecisionNoEntry { closed: true }, Zh) => {
                "该结算的挂账条目已结清：决定无可适用".to_string()
            }
            (Reason::DecisionNoEntry { closed: true }, En) => {
                "the ledger entry of this key is already closed: the decision applies to nothing"
                    .to_string()
            }
            (Reason::DecisionOnReversed, Zh) => {
                "该条目已被本月的冲销结清：决定无可适用".to_string()
            }
            (Reason::DecisionOnReversed, En) => {
                "a reversal of this month closed the entry: the decision applies to nothing"
                    .to_string()
            }
            (
                Reason::DecisionAmountAbove {
                    amount,
                    may_release,
                },
                Zh,
            ) => format!(
                "支付金额 {} 超过该条目可支付的 {}（或为负数）",
                crate::units::format_money(*amount),
                crate::units::format_money(*may_release)
            ),
            (
                Reason::DecisionAmountAbove {
                    amount,
                    may_release,
                },
                En,
            ) => format!(
                "amount {} is above the {} the entry may release (or negative)",
                crate::units::format_money(*amount),
                crate::units::format_money(*may_release)
            ),
            (Reason::Worded { zh, .. }, Zh) => zh.clone(),
            (Reason::Worded { en, .. }, En) => en.clone(),
        }
    }

    /// The reason in words, both languages, as a stage carries it.
    pub fn worded(&self) -> Reason {
        Reason::Worded {
            zh: self.text(Lang::Zh),
            en: self.text(Lang::En),
        }
    }
}
