//! The house as layers: every `crate::` reference in `src/` (outside test modules and
//! comments) runs down the layer map the README draws, so there is no import circle and
//! none running back up; no source file (the tests' too) is over 600 lines; and a rule's code is written
//! once, in its registry line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::util::files_under;

/// The layers from the bottom, as README's *Layout of the code* draws them.
const LAYERS: &[&str] = &[
    "units",
    "codes",
    "budget",
    "mask",
    "progress",
    "error",
    "exit",
    "config",
    "ingest",
    "model",
    "ledger",
    "scope",
    "matching",
    "payment",
    "line_audit",
    "rules",
    "clearing",
    "ledger_update",
    "output",
    "report",
    "partition",
    "run",
    "steps",
    "query",
    "validate",
    "generate",
    "cli",
];

/// The top-level module of a source file (`src/rules/amount/x.rs` → `rules`).
fn module_of(src: &Path, file: &Path) -> String {
    let first = file.strip_prefix(src).unwrap().components().next().unwrap();
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// The modules a file's code names through `crate::`: `crate::x::…` and `crate::{x, …}`.
fn references(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or_default();
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_')
            .collect()
    };
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            found.extend(group.split(',').map(|item| ident(item.trim())));
        } else {
            found.insert(ident(rest));
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

#[test]
fn every_import_runs_down_the_layer_map_and_no_file_is_over_600_lines_tests_too() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = files_under(&src, "rs");
    let rank: BTreeMap<&str, usize> = LAYERS.iter().enumerate().map(|(k, m)| (*m, k)).collect();
    let mut problems = Vec::new();
    let tests = files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"), "rs");
    for file in &tests {
        let lines = std::fs::read_to_string(file).unwrap().lines().count();
        if lines > 600 {
            problems.push(format!("{}: {lines} lines", file.display()));
        }
    }
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let lines = text.lines().count();
        if lines > 600 {
            problems.push(format!("{}: {lines} lines", file.display()));
        }
        let module = module_of(&src, file);
        if module == "main" || module == "lib" {
            continue;
        }
        let Some(&here) = rank.get(module.as_str()) else {
            problems.push(format!(
                "{}: module {module} is not in the layer map",
                file.display()
            ));
            continue;
        };
        for target in references(&text) {
            if target == module {
                continue;
            }
            match rank.get(target.as_str()) {
                None => problems.push(format!(
                    "{}: crate::{target} is not a layer",
                    file.display()
                )),
                Some(&there) if there > here => problems.push(format!(
                    "{}: {module} imports {target}, a layer above it",
                    file.display()
                )),
                Some(_) => {}
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_reference_reader_sees_paths_and_groups_but_not_comments() {
    let text = "use crate::model::{Money, SetlRow};\nuse crate::{clearing, rules::Finding};\n\
                // crate::cli in a comment\nfn f() { crate::units::parse_month(\"x\"); }\n\
                #[cfg(test)]\nmod tests { use crate::generate; }";
    let found: Vec<String> = references(text).into_iter().collect();
    assert_eq!(found, ["clearing", "model", "rules", "units"]);
}

#[test]
fn each_rule_code_is_written_once_in_src_outside_the_generator() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let texts: Vec<(PathBuf, String)> = files_under(&src, "rs")
        .into_iter()
        .filter(|f| module_of(&src, f) != "generate")
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            (f, text)
        })
        .collect();
    for rule in yidi::rules::RULES {
        let quoted = format!("\"{}\"", rule.code);
        let places: Vec<String> = texts
            .iter()
            .flat_map(|(f, text)| {
                text.lines()
                    .enumerate()
                    .filter(|(_, l)| l.contains(&quoted))
                    .map(move |(n, _)| format!("{}:{}", f.display(), n + 1))
            })
            .collect();
        assert_eq!(places.len(), 1, "{} is written at {places:?}", rule.code);
        assert!(
            places[0].contains("rules/mod.rs"),
            "{} at {places:?}",
            rule.code
        );
    }
}
