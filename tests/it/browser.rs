//! The report as a person sees it (SPEC §9, issue 19): rendered in headless Chromium, the
//! sample month's report and a generated city month's (flows between all provinces, in
//! Chinese and in English) render, stay within about four screens (≤ 6 000 px at 1 400 px
//! wide), and no element is wider than the page.
//!
//! Chromium is Debian's `chromium` (`.ci/run` installs it where missing; `YIDI_CHROMIUM`
//! names another binary). Under CI a missing browser fails the test; elsewhere it is
//! skipped with a message.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::SAMPLE_MONTH;

/// The bound on a report's rendered height at 1 400 px wide.
const MAX_HEIGHT: u64 = 6_000;
const WIDTH: u64 = 1_400;

fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("YIDI_CHROMIUM") {
        return Some(path.into());
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// (rendered height, scroll width, page width, elements wider than the page).
fn measure(browser: &Path, report: &Path) -> (u64, u64, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(report, dir.path().join("report.html")).unwrap();
    // The report has no script; a page around it measures it once it has loaded.
    let wrapper = format!(
        r#"<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="report.html" style="width:{WIDTH}px;height:1000px;border:0"></iframe>
<script>
document.getElementById('f').addEventListener('load', function () {{
  var d = this.contentDocument, root = d.documentElement, width = root.clientWidth;
  var wide = Array.prototype.filter.call(d.querySelectorAll('body *'), function (e) {{
    return e.getBoundingClientRect().right > width + 0.5;
  }}).length;
  document.body.setAttribute('data-measure', [root.scrollHeight, root.scrollWidth, width, wide].join(' '));
}});
</script></body></html>"#
    );
    std::fs::write(dir.path().join("wrap.html"), wrapper).unwrap();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--allow-file-access-from-files",
            "--virtual-time-budget=10000",
            "--dump-dom",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("file://{}", dir.path().join("wrap.html").display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&output.stdout);
    let start = dom
        .find("data-measure=\"")
        .unwrap_or_else(|| panic!("the report rendered and was measured: {dom}"))
        + "data-measure=\"".len();
    let numbers: Vec<u64> = dom[start..]
        .split('"')
        .next()
        .unwrap()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    (numbers[0], numbers[1], numbers[2], numbers[3])
}

fn assert_fits(browser: &Path, report: &Path) {
    let (height, scroll_width, width, wide) = measure(browser, report);
    assert!(
        height <= MAX_HEIGHT,
        "{}: {height} px tall at {WIDTH} px wide (at most {MAX_HEIGHT})",
        report.display()
    );
    assert!(
        scroll_width <= width && wide == 0,
        "{}: {wide} elements wider than the page ({scroll_width} px of {width})",
        report.display()
    );
}

fn yidi(args: &[&str]) {
    let status = Command::new(assert_cmd::cargo::cargo_bin("yidi"))
        .args(args)
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(status.success(), "yidi {args:?}: {status}");
}

#[test]
fn the_reports_render_within_four_screens_and_the_page_width() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have Chromium (.ci/run installs Debian's chromium)"
        );
        eprintln!("skipped: no Chromium (apt-get install chromium, or set YIDI_CHROMIUM)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let sample = crate::util::sample_dir();
    yidi(&[
        "run",
        sample.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_fits(&browser, &out.join(SAMPLE_MONTH).join("report.html"));
    // The next month, with the ledger's section (SPEC §13).
    let november = sample.with_file_name("2026-11");
    yidi(&[
        "run",
        november.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let report = out.join("2026-11").join("report.html");
    assert!(
        std::fs::read_to_string(&report)
            .unwrap()
            .contains("挂账台账")
    );
    assert_fits(&browser, &report);

    let generated = tmp.path().join("city");
    yidi(&[
        "generate",
        "--scale",
        "city",
        "--seed",
        "3",
        "--out",
        generated.to_str().unwrap(),
    ]);
    let month = generated.join("2026-10");
    for (lang, dir) in [("zh", "zh"), ("en", "en")] {
        let out = tmp.path().join(dir);
        yidi(&[
            "run",
            month.to_str().unwrap(),
            "--lang",
            lang,
            "--out",
            out.to_str().unwrap(),
        ]);
        let report = out.join("2026-10").join("report.html");
        let html = std::fs::read_to_string(&report).unwrap();
        // A city month clears between many provinces: the matrix, not a bar a pair.
        assert!(
            html.contains("<table class=\"m\">"),
            "{lang}: the flow matrix"
        );
        assert_fits(&browser, &report);
    }
}
