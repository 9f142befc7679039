//! Matching settlements to filings (SPEC §4): each tie-break, each reason of the "why no
//! match" order, province-level and area-level filings, open-ended filings.

use yidi::codes::{ClrType, Insutype, MedType, RlocRea};
use yidi::matching::{FilingIndex, Outcome, match_settlement};
use yidi::model::TiSlice;
use yidi::model::{Filing, Settlement};
use yidi::units::{days_since_epoch, millis_since_epoch, parse_date, parse_time};

fn day(text: &str) -> i32 {
    days_since_epoch(parse_date(text).unwrap())
}

fn at(text: &str) -> i64 {
    millis_since_epoch(parse_time(text).unwrap())
}

/// A Nanchang employee's stay in Guangzhou, 2026-10-03 to 10-12, settled 10-12 10:00.
fn stay() -> Settlement {
    Settlement {
        hospital_dir: "H44010000001".into(),
        line: 2,
        setl_id: "S1".into(),
        psn_no: "P1".into(),
        insutype: Insutype::Employee,
        insuplc_admdvs: "360100".into(),
        fixmedins_code: "H44010000001".into(),
        mdtrtarea_admvs: "440100".into(),
        med_type: MedType::Inpatient,
        clr_type: ClrType::Inpatient,
        emg_flag: false,
        begndate: day("2026-10-03"),
        enddate: day("2026-10-12"),
        setl_time: at("2026-10-12 10:00:00"),
        opsp_dise_code: None,
        reversal: false,
        init_setl_id: None,
        money: yidi::model::Amounts::default(),
    }
}

fn filing(sn: &str, rloc: &str, begin: &str, end: Option<&str>) -> Filing {
    Filing {
        trt_dcla_detl_sn: sn.into(),
        psn_no: "P1".into(),
        certno: None,
        insutype: Insutype::Employee,
        insu_admdvs: "360100".into(),
        rloc_rea: RlocRea::LongTermResident,
        rloc_admdvs: rloc.into(),
        begndate: day(begin),
        enddate: end.map(day),
        crte_time: at("2025-12-20 09:00:00"),
        valid: true,
        updt_time: at("2025-12-20 09:00:00"),
    }
}

fn outcome(s: &Settlement, filings: &[Filing]) -> Outcome {
    let filings = TiSlice::from_ref(filings);
    match_settlement(s, "440100", filings, &FilingIndex::new(filings))
}

fn matched_sn(s: &Settlement, filings: &[Filing]) -> String {
    match outcome(s, filings) {
        Outcome::Matched(i) => filings[i.0].trt_dcla_detl_sn.to_string(),
        other => panic!("expected a match, got {other:?}"),
    }
}

fn failed(s: &Settlement, filings: &[Filing]) -> (&'static str, Option<String>) {
    match outcome(s, filings) {
        Outcome::Failed { reason, filing } => (
            // The rule that decides from each reason (SPEC §4).
            match reason {
                yidi::matching::NoValidFiling::Cancelled => "FIL004",
                yidi::matching::NoValidFiling::Expired => "FIL002",
                yidi::matching::NoValidFiling::NotBegun => "FIL003",
                yidi::matching::NoValidFiling::FiledAfter => "FIL005",
                yidi::matching::NoValidFiling::OtherArea => "FIL006",
                yidi::matching::NoValidFiling::None => "FIL001",
            },
            filing.map(|i| filings[i.0].trt_dcla_detl_sn.to_string()),
        ),
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[test]
fn the_latest_begndate_wins() {
    let filings = [
        filing("A", "440000", "2025-01-01", None),
        filing("B", "440100", "2026-02-01", None),
    ];
    assert_eq!(matched_sn(&stay(), &filings), "B");
}

#[test]
fn ties_on_begndate_go_to_the_latest_crte_time_then_the_smallest_id() {
    let mut a = filing("A", "440000", "2026-02-01", None);
    let mut b = filing("B", "440100", "2026-02-01", None);
    b.crte_time = at("2026-01-20 09:00:00");
    assert_eq!(matched_sn(&stay(), &[a.clone(), b.clone()]), "B");
    a.crte_time = b.crte_time;
    let c = Filing {
        trt_dcla_detl_sn: "0C".into(),
        ..a.clone()
    };
    assert_eq!(matched_sn(&stay(), &[a, b, c]), "0C");
}

#[test]
fn province_level_and_area_level_filings_cover_the_area_others_do_not() {
    assert_eq!(
        matched_sn(&stay(), &[filing("P", "440000", "2026-01-01", None)]),
        "P"
    );
    assert_eq!(
        matched_sn(&stay(), &[filing("A", "440100", "2026-01-01", None)]),
        "A"
    );
    let shenzhen = [filing("Z", "440300", "2026-01-01", None)];
    assert_eq!(failed(&stay(), &shenzhen), ("FIL006", Some("Z".into())));
}

#[test]
fn open_ended_and_bounded_filings() {
    assert_eq!(
        matched_sn(&stay(), &[filing("O", "440000", "2020-01-01", None)]),
        "O"
    );
    let last_day = [filing("E", "440000", "2026-01-01", Some("2026-10-03"))];
    assert_eq!(
        matched_sn(&stay(), &last_day),
        "E",
        "an end on the admission day covers it"
    );
}

#[test]
fn filings_of_another_insurance_type_or_insured_place_do_not_count() {
    let mut other_type = filing("T", "440000", "2026-01-01", None);
    other_type.insutype = Insutype::Resident;
    let mut other_place = filing("Q", "440000", "2026-01-01", None);
    other_place.insu_admdvs = "360600".into();
    assert_eq!(
        failed(&stay(), &[other_type, other_place]),
        ("FIL001", None)
    );
}

#[test]
fn the_reasons_come_in_their_order() {
    let mut cancelled = filing("C", "440000", "2026-01-01", None);
    cancelled.valid = false;
    cancelled.updt_time = at("2026-09-01 10:00:00");
    let expired = filing("X", "440000", "2026-01-01", Some("2026-09-30"));
    let not_begun = filing("N", "440000", "2026-10-05", None);
    let mut late = filing("L", "440000", "2026-10-01", None);
    late.crte_time = at("2026-10-13 09:00:00");
    let elsewhere = filing("W", "430000", "2026-01-01", None);
    let all = [cancelled, expired, not_begun, late, elsewhere];
    let expected = [
        ("FIL004", "C"),
        ("FIL002", "X"),
        ("FIL003", "N"),
        ("FIL005", "L"),
        ("FIL006", "W"),
    ];
    for (k, (rule, sn)) in expected.iter().enumerate() {
        assert_eq!(failed(&stay(), &all[k..]), (*rule, Some(sn.to_string())));
    }
    assert_eq!(failed(&stay(), &[]), ("FIL001", None));
}

#[test]
fn a_filing_cancelled_after_admission_still_covers_it() {
    let mut f = filing("C", "440000", "2026-01-01", None);
    f.valid = false;
    f.updt_time = at("2026-10-04 08:00:00");
    assert_eq!(matched_sn(&stay(), &[f]), "C");
}

#[test]
fn an_emergency_without_a_match_is_deemed_filed() {
    let mut s = stay();
    s.emg_flag = true;
    assert_eq!(outcome(&s, &[]), Outcome::Emergency);
    let mut s = stay();
    s.med_type = MedType::Emergency;
    let expired = [filing("X", "440000", "2026-01-01", Some("2026-09-30"))];
    assert_eq!(outcome(&s, &expired), Outcome::Emergency);
}
