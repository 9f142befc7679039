//! Temporary months built from the bundled sample, and small editors for their files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

use yidi::config::Config;
use yidi::ingest::{self, Month};
use yidi::progress::Progress;

pub const SAMPLE_MONTH: &str = "2026-10";

/// SPEC §9's result tables of a month, in its order (the ledger's of §13 and `rejects` aside).
pub const RESULT_TABLES: [&str; 6] = [
    "findings",
    "settlements",
    "clearing_by_area",
    "clearing_by_province",
    "province_net",
    "problems_by_hospital",
];

pub fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample_data")
        .join(SAMPLE_MONTH)
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the sample month in a temporary directory, named `2026-10`.
pub struct TempMonth {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl TempMonth {
    pub fn sample() -> TempMonth {
        TempMonth::of(SAMPLE_MONTH)
    }

    /// A copy of the sample month `month` (`2026-10`, or `2026-11`, which continues it).
    pub fn of(month: &str) -> TempMonth {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(month);
        copy_dir(&sample_dir().with_file_name(month), &dir);
        TempMonth { tmp, dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn read_bytes(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path(rel)).unwrap()
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }

    /// The file as UTF-8 text (without BOM; GBK files decoded).
    pub fn text(&self, rel: &str) -> String {
        let bytes = self.read_bytes(rel);
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
        match std::str::from_utf8(bytes) {
            Ok(text) => text.to_owned(),
            Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
        }
    }

    /// Replaces the value of `column` on data row `row` (0-based) of a UTF-8 CSV file.
    pub fn set_field(&self, rel: &str, row: usize, column: &str, value: &str) {
        let text = self.text(rel);
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let index = lines[0].split(',').position(|h| h == column).unwrap();
        let mut fields: Vec<String> = lines[row + 1].split(',').map(str::to_owned).collect();
        fields[index] = value.to_owned();
        lines[row + 1] = fields.join(",");
        self.write(rel, lines.join("\n") + "\n");
    }

    pub fn out(&self) -> PathBuf {
        self.tmp.path().join("out")
    }

    pub fn ingest(&self) -> Month {
        ingest::read_month(&self.dir, &Config::default(), &Progress::silent()).unwrap()
    }
}

/// Ingests a month with the default configuration.
pub fn ingest(dir: &Path) -> Result<Month, yidi::error::InputError> {
    ingest::read_month(dir, &Config::default(), &Progress::silent())
}

/// Each file's counts add up, and the rejects and frames agree with them.
pub fn assert_counts_add_up(month: &Month) {
    for file in &month.files {
        assert_eq!(file.read, file.accepted + file.rejected, "{}", file.path);
        let rejects = month.rejects.iter().filter(|r| r.file == file.path).count() as u64;
        assert_eq!(rejects, file.rejected, "{}", file.path);
    }
    let setlinfo_accepted: u64 = month
        .files
        .iter()
        .filter(|f| f.table == "setlinfo")
        .map(|f| f.accepted)
        .sum();
    assert_eq!(month.setlinfo.height() as u64, setlinfo_accepted);
    let fee_accepted: u64 = month
        .files
        .iter()
        .filter(|f| f.table == "feedetail")
        .map(|f| f.accepted)
        .sum();
    assert_eq!(month.feedetail.height() as u64, fee_accepted);
}

/// A CSV text's header and records.
pub fn csv_records(text: &str) -> (Vec<String>, Vec<csv::StringRecord>) {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let records = reader.records().map(Result::unwrap).collect();
    (header, records)
}

/// The rows of a CSV file (an output, or an export in UTF-8 or GBK; BOM dropped), each a
/// map from column to value.
pub fn csv_rows(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    // Exports may be GBK (a generated month writes some so).
    let bytes = std::fs::read(path).unwrap();
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(e.as_bytes())
            .expect("UTF-8 or GB18030")
            .into_owned(),
    };
    let (header, records) = csv_records(text.trim_start_matches('\u{feff}'));
    records
        .into_iter()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// The `yidi` binary, with no test-only pause and no log filter from the environment.
pub fn yidi() -> Command {
    let mut cmd = Command::cargo_bin("yidi").unwrap();
    cmd.env_remove("RUST_LOG").env_remove("YIDI_PAUSE_AT");
    cmd
}

/// A finished run's `manifest.json`.
pub fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Every file under `dir` (recursively) whose name ends in `.ext`, sorted.
pub fn files_under(dir: &Path, ext: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, ext: &str, files: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, ext, files);
            } else if path.extension().is_some_and(|e| e == ext) {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, ext, &mut files);
    files.sort();
    files
}

/// The sheets of a workbook in their order: each sheet's name and its XML.
pub fn xlsx_sheets(path: &Path) -> Vec<(String, String)> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = |name: &str| {
        let mut xml = String::new();
        archive
            .by_name(name)
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        xml
    };
    let workbook = text("xl/workbook.xml");
    let names: Vec<String> = workbook
        .split("<sheet name=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect();
    (1..=names.len())
        .zip(names)
        .map(|(n, name)| (name, text(&format!("xl/worksheets/sheet{n}.xml"))))
        .collect()
}
