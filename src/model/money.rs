//! The money columns of setlinfo (SPEC §2), as a type: a settlement's amounts are an
//! array indexed by [`Money`], so a rule names the column it reads and the compiler
//! checks the name.

/// A money column of setlinfo, in SPEC order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Money {
    MedfeeSumamt,
    FulamtOwnpayAmt,
    OverlmtSelfpay,
    PreselfpayAmt,
    InscpScpAmt,
    ActPayDedc,
    HifpPay,
    CvlservPay,
    HifesPay,
    HifmiPay,
    HifobPay,
    MafPay,
    OthPay,
    FundPaySumamt,
    PsnPartAmt,
    AcctPay,
    PsnCashPay,
    HospPartAmt,
}

impl Money {
    /// Every money column, in SPEC order (the order of a settlement's amounts).
    pub const ALL: [Money; 18] = [
        Money::MedfeeSumamt,
        Money::FulamtOwnpayAmt,
        Money::OverlmtSelfpay,
        Money::PreselfpayAmt,
        Money::InscpScpAmt,
        Money::ActPayDedc,
        Money::HifpPay,
        Money::CvlservPay,
        Money::HifesPay,
        Money::HifmiPay,
        Money::HifobPay,
        Money::MafPay,
        Money::OthPay,
        Money::FundPaySumamt,
        Money::PsnPartAmt,
        Money::AcctPay,
        Money::PsnCashPay,
        Money::HospPartAmt,
    ];

    /// The column's name in SPEC and in the files.
    pub const fn name(self) -> &'static str {
        match self {
            Money::MedfeeSumamt => "medfee_sumamt",
            Money::FulamtOwnpayAmt => "fulamt_ownpay_amt",
            Money::OverlmtSelfpay => "overlmt_selfpay",
            Money::PreselfpayAmt => "preselfpay_amt",
            Money::InscpScpAmt => "inscp_scp_amt",
            Money::ActPayDedc => "act_pay_dedc",
            Money::HifpPay => "hifp_pay",
            Money::CvlservPay => "cvlserv_pay",
            Money::HifesPay => "hifes_pay",
            Money::HifmiPay => "hifmi_pay",
            Money::HifobPay => "hifob_pay",
            Money::MafPay => "maf_pay",
            Money::OthPay => "oth_pay",
            Money::FundPaySumamt => "fund_pay_sumamt",
            Money::PsnPartAmt => "psn_part_amt",
            Money::AcctPay => "acct_pay",
            Money::PsnCashPay => "psn_cash_pay",
            Money::HospPartAmt => "hosp_part_amt",
        }
    }
}

/// A settlement's amounts, fen, one a [`Money`] column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Amounts(pub [i64; 18]);

impl std::ops::Index<Money> for Amounts {
    type Output = i64;

    fn index(&self, column: Money) -> &i64 {
        &self.0[column as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_column_sits_at_its_place_in_spec_order() {
        for (k, money) in Money::ALL.iter().enumerate() {
            assert_eq!(*money as usize, k, "{}", money.name());
        }
        let spec = crate::ingest::schema::Table::Setlinfo;
        let columns: Vec<&str> = spec.columns().iter().map(|c| c.name).collect();
        let positions: Vec<usize> = Money::ALL
            .iter()
            .map(|m| {
                columns
                    .iter()
                    .position(|c| *c == m.name())
                    .unwrap_or(usize::MAX)
            })
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    }
}
