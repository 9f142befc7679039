//! Writing Parquet files and reading them back.

use super::*;

/// What a file holds read back is what was pushed: fixed-point columns as exact
/// Decimals, codes and identifiers, dates, times and nulls, over several row groups,
/// `certno` masked; the manifest's hash is that of the file's bytes.
#[test]
fn a_file_reads_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let n = 1000;
    let frame = fixture::frame(n);
    let file = fixture::write(&frame, &path, true);
    assert_eq!((file.path.as_str(), file.rows), ("t.parquet", n as u64));
    use sha2::Digest;
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(file.sha256, hex::encode(sha2::Sha256::digest(&bytes)));

    let back = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    assert_eq!(back.height(), n);
    assert_eq!(
        back.column("hifp_pay").unwrap().dtype(),
        &DataType::Decimal(18, 2)
    );
    let pay = back
        .column("hifp_pay")
        .unwrap()
        .decimal()
        .unwrap()
        .physical()
        .clone();
    let sent = frame.column("hifp_pay").unwrap().i64().unwrap().clone();
    assert!(
        pay.iter()
            .zip(sent.iter())
            .all(|(a, b)| a == b.map(i128::from))
    );
    for name in [
        "hospital_dir",
        "setl_id",
        "med_list_codg",
        "begndate",
        "setl_time",
    ] {
        assert!(
            back.column(name)
                .unwrap()
                .equals_missing(frame.column(name).unwrap()),
            "{name}"
        );
    }
    let certno = back.column("certno").unwrap().str().unwrap().get(0);
    assert_eq!(
        certno,
        Some(crate::mask::certno("110101199001011234").as_str())
    );
}

/// A few-valued column's dictionary: its distinct values in the order they first
/// appear, whether held in their views or not; nulls stay null and add no value.
#[test]
fn a_dictionary_holds_each_value_once_in_first_order() {
    let long = "XA01AAA0123010100001";
    let column = StringChunked::new(
        "c".into(),
        [
            Some("21"),
            None,
            Some(long),
            Some("21"),
            Some("11"),
            Some(long),
            None,
        ],
    );
    let array = column.downcast_iter().next().unwrap();
    let dictionary = dictionary_of(array).unwrap();
    let values = dictionary.values().as_any();
    let values = values.downcast_ref::<Utf8ViewArray>().unwrap();
    let values: Vec<&str> = values.values_iter().collect();
    assert_eq!(values, ["21", long, "11"]);
    let keys: Vec<Option<u32>> = dictionary.keys().iter().map(|k| k.copied()).collect();
    assert_eq!(
        keys,
        [Some(0), None, Some(1), Some(0), Some(2), Some(1), None]
    );
}

/// `f` of each row group's chunk of column `name` in the file at `path`.
fn each_chunk<T>(
    path: &Path,
    name: &str,
    f: impl Fn(&polars_parquet::read::ColumnChunkMetadata) -> T,
) -> Vec<T> {
    let metadata =
        polars_parquet::read::read_metadata(&mut std::fs::File::open(path).unwrap()).unwrap();
    metadata
        .row_groups
        .iter()
        .map(|group| f(group.columns_under_root_iter(name).unwrap().next().unwrap()))
        .collect()
}

/// Whether each row group of the file at `path` holds column `name` as a dictionary.
fn dictionaries(path: &Path, name: &str) -> Vec<bool> {
    each_chunk(path, name, |chunk| chunk.dictionary_page_offset().is_some())
}

/// A string column whose values repeat in a row group is written as a dictionary, one
/// whose values do not, plain; both read back as they were.
#[test]
fn repeating_strings_are_written_as_a_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let n = 1000;
    let mut frame = fixture::frame(n);
    // A settlement's identifier down its ten lines, and a line's serial within it.
    let settlement: Vec<String> = (0..n).map(|i| format!("S{:012}", i / 10)).collect();
    let serial: Vec<String> = (0..n).map(|i| (i % 10 + 1).to_string()).collect();
    frame
        .with_column(Column::new("feedetl_sn".into(), serial))
        .unwrap();
    frame
        .with_column(Column::new("mdtrt_id".into(), settlement))
        .unwrap();
    fixture::write(&frame, &path, false);

    let dictionary = |name: &str| dictionaries(&path, name);
    let groups = dictionary("setl_id").len();
    assert!(groups > 1);
    assert_eq!(dictionary("mdtrt_id"), vec![true; groups]);
    assert_eq!(dictionary("feedetl_sn"), vec![true; groups]);
    assert_eq!(dictionary("setl_id"), vec![false; groups]);
    let back = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    for name in ["mdtrt_id", "feedetl_sn", "setl_id"] {
        assert!(
            back.column(name)
                .unwrap()
                .equals_missing(frame.column(name).unwrap()),
            "{name}"
        );
    }
}

/// A row group that opens with a long stay (300 serials in its first rows, where one
/// value for two rows is not yet seen) still writes its serials as a dictionary when the
/// whole group repeats them; a column whose first rows do not repeat at all stays plain.
#[test]
fn serials_after_a_long_stay_are_still_a_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    let n = 4096;
    let mut frame = fixture::frame(n);
    let serial: Vec<String> = (0..n)
        .map(|i| match i < 300 {
            true => (i + 1).to_string(),
            false => ((i - 300) % 10 + 1).to_string(),
        })
        .collect();
    frame
        .with_column(Column::new("feedetl_sn".into(), serial))
        .unwrap();
    let mut sink = ParquetSink::create(
        &path,
        &frame.clear(),
        &fixture::scale,
        ParquetCompression::Lz4Raw,
        false,
    )
    .unwrap()
    .with_group_rows(n);
    sink.push(frame.clone()).unwrap();
    sink.finish(dir.path()).unwrap();
    // One row group.
    assert_eq!(dictionaries(&path, "feedetl_sn"), [true]);
    assert_eq!(dictionaries(&path, "setl_id"), [false]);
    let back = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    assert!(
        back.column("feedetl_sn")
            .unwrap()
            .equals_missing(frame.column("feedetl_sn").unwrap())
    );
}

/// A gathered frame's strings keep the whole buffers of the frame they were gathered
/// from; once owned, only their own bytes, and the same values.
#[test]
fn owned_strings_keep_only_their_own_bytes() {
    let ids: Vec<String> = (0..10_000).map(|i| format!("S{i:020}")).collect();
    let frame = DataFrame::new(ids.len(), vec![Column::new("setl_id".into(), ids)]).unwrap();
    let rows = IdxCa::from_vec("".into(), vec![3, 5_000, 9_999]);
    let taken = frame.take(&rows).unwrap();
    let buffer_bytes = |f: &DataFrame| -> usize {
        f.column("setl_id")
            .unwrap()
            .str()
            .unwrap()
            .downcast_iter()
            .map(|a| a.total_buffer_len())
            .sum()
    };
    assert!(buffer_bytes(&taken) >= 10_000 * 21);
    let owned = owning_strings(&taken);
    assert_eq!(buffer_bytes(&owned), 3 * 21);
    assert!(owned.equals_missing(&taken));
    assert_eq!(buffer_bytes(&owning_strings(&owned)), 3 * 21);
}

/// Each row group's codec of `name` in the file at `path`.
fn codecs(path: &Path, name: &str) -> Vec<String> {
    each_chunk(path, name, |chunk| format!("{:?}", chunk.compression()))
}

/// A column that LZ4 does not shrink (bit-packed differences of noise) is compressed in
/// the first row group only, and weighed again every sixteenth; one it shrinks (long
/// identifiers with a common prefix) is compressed in every group; the file reads back
/// as written, whatever each chunk's codec.
#[test]
fn a_column_is_compressed_where_it_pays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.parquet");
    // Whole blocks of bit-packed differences (128 values): no padding for LZ4 to find.
    let (n, group) = (40 * 256, 256);
    // A 64-bit LCG: differences of full-width noise do not compress.
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<i64> = (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 1) as i64
        })
        .collect();
    let ids: Vec<String> = (0..n)
        .map(|i| format!("a-settlement-identifier-with-a-long-prefix-{i:08}"))
        .collect();
    let frame = df!("noise" => noise, "setl_id" => ids).unwrap();
    let mut sink = ParquetSink::create(
        &path,
        &frame.clear(),
        &|_| None,
        ParquetCompression::Lz4Raw,
        false,
    )
    .unwrap()
    .with_group_rows(group);
    for offset in (0..n).step_by(group) {
        sink.push(frame.slice(offset as i64, group)).unwrap();
    }
    sink.finish(dir.path()).unwrap();

    let weighed = |k: usize| k.is_multiple_of(codec::WEIGH_EVERY);
    let expected: Vec<&str> = (0..40)
        .map(|k| if weighed(k) { "Lz4Raw" } else { "Uncompressed" })
        .collect();
    assert_eq!(codecs(&path, "noise"), expected);
    assert_eq!(codecs(&path, "setl_id"), vec!["Lz4Raw"; 40]);
    let back = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    assert!(back.equals_missing(&frame));
}

/// A spill is plain, without statistics, its identifiers compressed, and reads back as
/// written (unmasked).
#[test]
fn a_spill_is_plain_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.parquet");
    let frame = fixture::frame(1000);
    let mut sink = ParquetSink::spill(&path, &frame.clear(), &fixture::scale)
        .unwrap()
        .with_group_rows(300);
    for offset in (0..frame.height()).step_by(128) {
        sink.push(frame.slice(offset as i64, 128)).unwrap();
    }
    sink.finish(dir.path()).unwrap();

    let metadata =
        polars_parquet::read::read_metadata(&mut std::fs::File::open(&path).unwrap()).unwrap();
    for group in &metadata.row_groups {
        for chunk in group.parquet_columns() {
            assert!(chunk.dictionary_page_offset().is_none());
            assert!(chunk.statistics(&[]).is_none());
        }
    }
    let groups = metadata.row_groups.len();
    assert!(groups > 1);
    assert_eq!(codecs(&path, "setl_id"), vec!["Lz4Raw"; groups]);
    let back = ParquetReader::new(std::fs::File::open(&path).unwrap())
        .finish()
        .unwrap();
    let sent = frame.column("certno").unwrap();
    assert!(back.column("certno").unwrap().equals_missing(sent));
    assert!(
        back.column("setl_id")
            .unwrap()
            .equals_missing(frame.column("setl_id").unwrap())
    );
}
