//! Fund payment by the insured place's policy (SPEC §6): the year-to-date accumulation
//! against a plain sequential reference in decimal arithmetic, and the laws of the
//! settlement money — disputed at most `hifp_pay`, cleared + held + disputed = fund, and
//! the same results whatever order the hospital folders are read in.

use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use yidi::model::PolicyRow;
use yidi::payment::{Claim, spend_in_order};

fn row(dedc_std: i64, per_year: bool, pool_prop: i64, cap_year: i64) -> PolicyRow {
    PolicyRow {
        insuplc_admdvs: "360100".into(),
        insutype: Insutype::Employee,
        med_grp: MedGrp::Ip,
        dedc_hosp_lv: "*".into(),
        dedc_std,
        per_year,
        pool_prop,
        cap_year,
        begndate: 0,
        enddate: None,
    }
}

/// The reference: each person on their own, in yuan, as a clerk would compute it.
fn reference(claims: &[(usize, i64, usize)], rows: &[PolicyRow], ytd: &[(i64, i64)]) -> Vec<i64> {
    let yuan = |fen: i64| Decimal::new(fen, 2);
    let mut out = vec![0; claims.len()];
    for (person, &(used_before, paid_before)) in ytd.iter().enumerate() {
        let (mut used, mut paid) = (yuan(used_before), yuan(paid_before));
        for (k, &(who, inscp, r)) in claims.iter().enumerate() {
            if who != person {
                continue;
            }
            let policy = &rows[r];
            let dedc = if policy.per_year {
                (yuan(policy.dedc_std) - used).max(Decimal::ZERO)
            } else {
                yuan(policy.dedc_std)
            };
            let base = (yuan(inscp) - dedc).max(Decimal::ZERO) * Decimal::new(policy.pool_prop, 4);
            let cap_left = (yuan(policy.cap_year) - paid).max(Decimal::ZERO);
            let expected = base
                .min(cap_left)
                .round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            used += dedc.min(yuan(inscp));
            paid += expected;
            out[k] = (expected * Decimal::new(100, 0)).try_into().unwrap();
        }
    }
    out
}

proptest! {
    #[test]
    fn year_to_date_accumulation_equals_a_sequential_reference(
        rows in proptest::collection::vec(
            (0i64..200_000, any::<bool>(), 0i64..=10_000, 0i64..1_000_000)
                .prop_map(|(d, y, p, c)| row(d, y, p, c)),
            1..4,
        ),
        ytd in proptest::collection::vec((0i64..100_000, 0i64..500_000), 1..4),
        claims in proptest::collection::vec((0usize..4, 0i64..2_000_000, 0usize..4), 0..30),
    ) {
        let claims: Vec<(usize, i64, usize)> = claims
            .into_iter()
            .map(|(p, inscp, r)| (p % ytd.len(), inscp, r % rows.len()))
            .collect();
        let input: Vec<Claim<'_, usize>> = claims
            .iter()
            .map(|&(key, inscp, r)| Claim { key, inscp, policy: &rows[r] })
            .collect();
        let got = spend_in_order(&input, |&person| ytd[person]);
        prop_assert_eq!(got, reference(&claims, &rows, &ytd));
    }
}

use std::collections::HashMap;

use polars::prelude::*;
use yidi::Lang;
use yidi::config::Config;
use yidi::progress::Progress;
use yidi::run::{Checked, MonthOptions, check};

use crate::util::{SAMPLE_MONTH, TempMonth};
use yidi::codes::{Insutype, MedGrp};

/// The month as read, its check, and the check's settlements table.
fn checked(month: &TempMonth) -> (yidi::ingest::Month, Checked, DataFrame) {
    let mut read = month.ingest();
    let options = MonthOptions {
        month_dir: month.dir.clone(),
        month: SAMPLE_MONTH.into(),
        config: Config::default(),
        lang: Lang::Zh,
        strict: false,
        budget: Default::default(),
    };
    // The checks take the large frames; the laws below read the settlements' frame.
    let setlinfo = read.setlinfo.clone();
    let mut result = check(
        &mut read,
        &options,
        None,
        &Progress::silent(),
        &yidi::ledger::Ledger::default(),
    );
    read.setlinfo = setlinfo;
    let settlements = result.settlements.take_all().unwrap();
    (read, result, settlements)
}

fn strings(frame: &DataFrame, name: &str) -> Vec<String> {
    frame
        .column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or("").to_owned())
        .collect()
}

fn ints(frame: &DataFrame, name: &str) -> Vec<Option<i64>> {
    frame.column(name).unwrap().i64().unwrap().iter().collect()
}

/// Every settlement row's money obeys SPEC §7's laws, and so does every clearing group;
/// the province nets sum to zero.
fn assert_money_laws(month: &yidi::ingest::Month, result: &Checked, s: &DataFrame) {
    let money = |name: &str| {
        yidi::clearing::CLEARING_MONEY
            .iter()
            .position(|m| *m == name)
            .unwrap()
    };
    let (fund, cleared, held, disputed) = (
        money("fund_pay_sumamt"),
        money("cleared_amount"),
        money("held_amount"),
        money("disputed_amount"),
    );
    for totals in result
        .groups
        .by_area
        .values()
        .chain(result.groups.by_province.values())
    {
        assert_eq!(
            totals.money[cleared] + totals.money[held] + totals.money[disputed],
            totals.money[fund]
        );
    }
    let nets = result.groups.province_net();
    assert_eq!(nets.values().map(|(r, p)| r - p).sum::<i64>(), 0);
    let setlinfo = &month.setlinfo;
    let mut paid: HashMap<(String, String, i64), (i64, i64)> = HashMap::new();
    let (codes, ids, lines) = (
        strings(setlinfo, "fixmedins_code"),
        strings(setlinfo, "setl_id"),
        ints(setlinfo, "line"),
    );
    let (hifp, fund) = (
        ints(setlinfo, "hifp_pay"),
        ints(setlinfo, "fund_pay_sumamt"),
    );
    for k in 0..setlinfo.height() {
        paid.insert(
            (codes[k].clone(), ids[k].clone(), lines[k].unwrap()),
            (hifp[k].unwrap(), fund[k].unwrap()),
        );
    }
    assert_eq!(
        s.height(),
        setlinfo.height(),
        "every settlement row has one status"
    );
    let (codes, ids, lines, status) = (
        strings(s, "fixmedins_code"),
        strings(s, "setl_id"),
        ints(s, "line"),
        strings(s, "status"),
    );
    let (disputed, held, cleared) = (
        ints(s, "disputed_amount"),
        ints(s, "held_amount"),
        ints(s, "cleared_amount"),
    );
    for k in 0..s.height() {
        let (hifp, fund) = paid[&(codes[k].clone(), ids[k].clone(), lines[k].unwrap())];
        let (d, h, c) = (disputed[k].unwrap(), held[k].unwrap(), cleared[k].unwrap());
        assert!(
            d >= 0 && d <= hifp.max(0),
            "{}: disputed {d} above hifp_pay {hifp}",
            ids[k]
        );
        match status[k].as_str() {
            "cleared" => assert_eq!((c + d, h), (fund, 0), "{}", ids[k]),
            "held" => assert_eq!((c, d, h), (0, 0, fund), "{}", ids[k]),
            "reversed" | "excluded" => assert_eq!((c, d, h), (0, 0, 0), "{}", ids[k]),
            other => panic!("status {other}"),
        }
    }
}

const FEE_FILES: [&str; 3] = [
    "exports/H44010000001/feedetail.csv",
    "exports/H36010000001/feedetail.csv",
    "exports/H43010000001/feedetail.csv",
];
const VALUES: &[(&str, &[&str])] = &[
    (
        "inscp_scp_amt",
        &["0.00", "5.00", "999.99", "12000.00", "-3.00"],
    ),
    ("pric", &["0.5", "80", "500.123456", "60"]),
    (
        "med_list_codg",
        &[
            "XZ99ZZZ999A001010100001",
            "C01010101010100000000",
            "001102000010000",
        ],
    ),
    ("chrgitm_lv", &["01", "02", "03"]),
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]

    #[test]
    fn disputed_never_exceeds_hifp_and_the_money_adds_up(
        edits in proptest::collection::vec((0usize..3, 0usize..30, 0usize..4, 0usize..5), 1..10),
        hifp in proptest::collection::vec((0usize..12, 0i64..20_000), 0..4),
    ) {
        let month = TempMonth::sample();
        for (file, row, column, value) in edits {
            let rel = FEE_FILES[file];
            let rows = month.text(rel).lines().count() - 1;
            let (name, values) = VALUES[column];
            month.set_field(rel, row % rows, name, values[value % values.len()]);
        }
        for (row, fen) in hifp {
            let rel = "exports/H44010000001/setlinfo.csv";
            let amount = yidi::units::format_money(fen);
            month.set_field(rel, row, "hifp_pay", &amount);
        }
        let (read, result, settlements) = checked(&month);
        assert_money_laws(&read, &result, &settlements);
    }

    #[test]
    fn recomputation_is_independent_of_the_hospital_order(
        order in proptest::collection::vec(0usize..7, 7),
        threads in 1usize..4,
    ) {
        let (a_month, a, a_settlements) = checked(&crate::ingest::month_with_hospital_order(&[0, 1, 2, 3, 4, 5, 6]));
        let shuffled = crate::ingest::month_with_hospital_order(&order);
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        let (_, b, b_settlements) = pool.install(|| checked(&shuffled));
        prop_assert!(a_settlements.equals_missing(&b_settlements));
        prop_assert_eq!(&a.findings, &b.findings);
        assert_money_laws(&a_month, &a, &a_settlements);
    }
}

/// Merging parts' clearing groups counts a person once over both, whichever side holds more
/// of them, and adds the counts and the money.
#[test]
fn merged_clearing_groups_count_each_person_once() {
    use yidi::clearing::{Clearing, Totals};
    let key = || ("110100".to_owned(), "320500".to_owned());
    for (first, second) in [
        (vec!["P1"], vec!["P1", "P2", "P3"]),
        (vec!["P1", "P2", "P3"], vec!["P3"]),
        (vec![], vec!["P4", "P5"]),
        (vec!["P1", "P2"], vec!["P3"]),
        (vec!["P3"], vec!["P1", "P2"]),
    ] {
        let mut clearing = Clearing::default();
        for (persons, fen) in [(&first, 100), (&second, 250)] {
            let totals = Totals {
                setl_cnt: 2,
                persons: persons.iter().map(|p| p.to_string()).collect(),
                reversed_cnt: 1,
                money: [fen; 12],
            };
            let mut part = Clearing::default();
            part.by_province.insert(key(), totals);
            clearing.merge(part);
        }
        let merged = &clearing.by_province[&key()];
        let union: std::collections::BTreeSet<String> =
            first.iter().chain(&second).map(|p| p.to_string()).collect();
        assert_eq!(merged.persons, union);
        assert_eq!((merged.setl_cnt, merged.reversed_cnt), (4, 2));
        assert_eq!(merged.money, [350; 12]);
    }
}
