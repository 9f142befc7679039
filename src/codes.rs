//! Value sets of the coded columns (SPEC §2, §12): the bottom layer that configuration
//! (code maps onto these sets) and ingestion (rows checked against them) both read.
//!
//! The codes the checks branch on are enums ([`MedType`], [`Insutype`], [`ClrType`],
//! [`RlocRea`], [`MedGrp`], [`ChrgitmLv`]): ingestion admits only codes of their sets, and the model turns
//! them into these types, so a rule matches on `MedType::Emergency`, not on `"13"`. Each
//! enum's `code` is its text in the files, its order that of its codes.

/// A coded column's enum, with its codes in the files and their list for the row checks.
macro_rules! code_enum {
    (
        $(#[$doc:meta])*
        $name:ident, $list:ident {
            $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in the order of its codes.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Its code in the files.
            pub const fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            /// The value of a code, if it is one of the set.
            pub fn parse(code: &str) -> Option<$name> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        /// The codes of the set, for the row checks.
        pub const $list: &[&str] = &[$($code),+];
    };
}

code_enum! {
    /// 险种 `insutype`.
    Insutype, INSUTYPE {
        /// 310 职工基本医疗保险.
        Employee = "310",
        /// 390 城乡居民基本医疗保险.
        Resident = "390",
    }
}

code_enum! {
    /// 医疗类别 `med_type` (after the configuration's code map).
    MedType, MED_TYPE {
        /// 11 普通门诊.
        Outpatient = "11",
        /// 13 急诊.
        Emergency = "13",
        /// 14 门诊慢特病.
        ChronicOutpatient = "14",
        /// 21 普通住院.
        Inpatient = "21",
        /// 22 外伤住院.
        InjuryInpatient = "22",
        /// 23 转诊住院.
        ReferredInpatient = "23",
        /// 24 急诊转住院.
        EmergencyInpatient = "24",
    }
}

impl MedType {
    /// 21–24.
    pub fn is_inpatient(self) -> bool {
        matches!(
            self,
            MedType::Inpatient
                | MedType::InjuryInpatient
                | MedType::ReferredInpatient
                | MedType::EmergencyInpatient
        )
    }

    /// 13 or 24 (SPEC §4: with `emg_flag = 1`, an emergency).
    pub fn is_emergency(self) -> bool {
        matches!(self, MedType::Emergency | MedType::EmergencyInpatient)
    }

    /// Its policy group (SPEC §2 policy.csv): 21–24 `ip`, 11 and 13 `op`, 14 `opsp`.
    pub fn group(self) -> MedGrp {
        match self {
            MedType::ChronicOutpatient => MedGrp::Opsp,
            MedType::Outpatient | MedType::Emergency => MedGrp::Op,
            _ => MedGrp::Ip,
        }
    }
}

code_enum! {
    /// 清算类别 `clr_type`.
    ClrType, CLR_TYPE {
        Outpatient = "11",
        Inpatient = "21",
        /// 41 药店.
        Pharmacy = "41",
        Other = "99",
    }
}

code_enum! {
    /// 备案类别 `rloc_rea` (after the configuration's code map).
    RlocRea, RLOC_REA {
        /// 11 异地安置退休.
        ResettledRetiree = "11",
        /// 12 异地长期居住.
        LongTermResident = "12",
        /// 13 常驻异地工作.
        StationedWorker = "13",
        /// 21 异地转诊.
        Referral = "21",
        /// 22 异地急诊.
        Emergency = "22",
        /// 23 临时外出就医.
        OtherTemporary = "23",
    }
}

impl RlocRea {
    /// 11–13: a long-term filing.
    pub fn is_long_term(self) -> bool {
        matches!(
            self,
            RlocRea::ResettledRetiree | RlocRea::LongTermResident | RlocRea::StationedWorker
        )
    }
}

code_enum! {
    /// 收费项目等级 `chrgitm_lv`: the catalogue's billing class.
    ChrgitmLv, CHRGITM_LV {
        /// 01 甲类: paid by the fund in full, within scope.
        ClassA = "01",
        /// 02 乙类: the patient first pays `selfpay_prop`.
        ClassB = "02",
        /// 03 丙类: fully self-paid.
        SelfPaid = "03",
    }
}

code_enum! {
    /// The policy group `med_grp` of policy.csv and ytd.csv.
    MedGrp, MED_GRP {
        Ip = "ip",
        Op = "op",
        Opsp = "opsp",
    }
}

pub const LIST_TYPE: &[&str] = &["101", "102", "201", "301"];
pub const HOSP_LV: &[&str] = &[
    "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14",
];
pub const FLAG: &[&str] = &["0", "1"];
pub const DEDC_HOSP_LV: &[&str] = &["1", "2", "3", "*"];
pub const DEDC_BASIS: &[&str] = &["visit", "year"];
pub const PSN_INSU_STAS: &[&str] = &["1", "2", "4"];
pub const DECISION: &[&str] = &["pay", "refuse"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_and_order_as_their_text() {
        fn laws<T: Copy + Ord + std::fmt::Debug>(
            all: &[T],
            code: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &value in all {
                assert_eq!(parse(code(value)), Some(value));
            }
            for pair in all.windows(2) {
                assert!(
                    pair[0] < pair[1] && code(pair[0]) < code(pair[1]),
                    "{pair:?}"
                );
            }
            assert_eq!(parse("00"), None);
        }
        laws(Insutype::ALL, Insutype::code, Insutype::parse);
        laws(MedType::ALL, MedType::code, MedType::parse);
        laws(ClrType::ALL, ClrType::code, ClrType::parse);
        laws(RlocRea::ALL, RlocRea::code, RlocRea::parse);
        laws(MedGrp::ALL, MedGrp::code, MedGrp::parse);
        laws(ChrgitmLv::ALL, ChrgitmLv::code, ChrgitmLv::parse);
        assert_eq!(MED_TYPE.len(), MedType::ALL.len());
    }

    #[test]
    fn the_policy_group_of_each_med_type_is_specs() {
        let group = |code: &str| MedType::parse(code).unwrap().group().code();
        assert_eq!(
            ["11", "13", "14", "21", "22", "23", "24"].map(group),
            ["op", "op", "opsp", "ip", "ip", "ip", "ip"]
        );
    }
}
