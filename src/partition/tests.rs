//! The parts' assignment of rows and fee lines, and of their persons' rows.

use super::*;

fn setlinfo(rows: &[(&str, &str, &str, Option<&str>)]) -> DataFrame {
    let column = |name: &str, values: Vec<Option<&str>>| {
        values
            .into_iter()
            .collect::<StringChunked>()
            .with_name(name.into())
            .into_column()
    };
    DataFrame::new(
        rows.len(),
        vec![
            column("setl_id", rows.iter().map(|r| Some(r.0)).collect()),
            column("insuplc_admdvs", rows.iter().map(|r| Some(r.1)).collect()),
            column("refd_setl_flag", rows.iter().map(|r| Some(r.2)).collect()),
            column("init_setl_id", rows.iter().map(|r| r.3).collect()),
        ],
    )
    .unwrap()
}

#[test]
fn linked_rows_follow_the_first_of_them() {
    let frame = setlinfo(&[
        ("A", "360100", "0", None),
        ("B", "220100", "0", None),
        // A copy of A insured elsewhere stays with A (DUP001 is judged in one part).
        ("A", "110100", "0", None),
        // A reversal of B insured elsewhere stays with B (REV001, REV002).
        ("R", "440100", "1", Some("B")),
        // A reversal of a settlement not in the file goes to its own province.
        ("Q", "450100", "1", Some("Z")),
        // A settlement reversed before it appears: both follow the reversal, the first.
        ("R2", "510100", "1", Some("C")),
        ("C", "520100", "0", None),
    ]);
    let parts: Vec<String> = settlement_parts(&frame)
        .iter()
        .map(|p| p.to_string())
        .collect();
    assert_eq!(parts, ["36", "22", "36", "22", "45", "51", "51"]);
}

#[test]
fn fee_lines_follow_their_settlement_and_frames_split_in_order() {
    let frame = setlinfo(&[("A", "360100", "0", None), ("B", "220100", "0", None)]);
    let parts = settlement_parts(&frame);
    let lines = DataFrame::new(
        3,
        vec![
            ["B", "A", "B"]
                .into_iter()
                .map(Some)
                .collect::<StringChunked>()
                .with_name("setl_id".into())
                .into_column(),
            Int64Chunked::from_vec("line".into(), vec![2, 3, 4]).into_column(),
        ],
    )
    .unwrap();
    let line_parts: Vec<PlSmallStr> = fee_line_settlements(&frame, &lines)
        .into_iter()
        .map(|row| parts[row as usize].clone())
        .collect();
    let pieces = split(&lines, &line_parts).unwrap();
    let lines_of = |part: &str| -> Vec<i64> {
        let (_, frame) = pieces.iter().find(|(p, _)| p == part).unwrap();
        frame
            .column("line")
            .unwrap()
            .i64()
            .unwrap()
            .into_no_null_iter()
            .collect()
    };
    assert_eq!(pieces.len(), 2);
    assert_eq!(lines_of("22"), [2, 4]);
    assert_eq!(lines_of("36"), [3]);
}

/// A part takes its persons' rows of a table, in the table's order, and no other.
#[test]
fn a_part_takes_its_persons_rows_in_order() {
    let psn = Column::new(
        "psn_no".into(),
        [Some("a"), Some("b"), Some("a"), None, Some("c"), Some("a")],
    );
    let line = Column::new("line".into(), [1i64, 2, 3, 4, 5, 6]);
    let frame = DataFrame::new(6, vec![psn, line]).unwrap();
    let index = PersonRows::new(Some(&frame)).unwrap();
    let persons: PlHashSet<&str> = ["c", "a", "z"].into_iter().collect();
    let taken = index.of(&persons).unwrap().unwrap();
    let lines: Vec<Option<i64>> = taken
        .column("line")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    assert_eq!(lines, [Some(1), Some(3), Some(5), Some(6)]);
    assert!(
        PersonRows::new(None)
            .unwrap()
            .of(&persons)
            .unwrap()
            .is_none()
    );
}
