//! Golden tests of `kb check` diagnostics: each `tests/golden/diagnostics/*.law` is checked together with
//! the mini knowledge base, and every rendered diagnostic must equal `*.expected`.
//! Regenerate with `LEXPRO_BLESS=1 cargo test --test diagnostics` and review the diff.

use std::path::Path;

fn check_with_base(case: &Path) -> (usize, String) {
    let base = std::fs::read_to_string("tests/fixtures/mini/base.law").expect("fixture");
    let text = std::fs::read_to_string(case).expect("golden case");
    let name = format!("golden/{}", case.file_name().and_then(|n| n.to_str()).unwrap_or("case.law"));
    let checked = lexpro::kb::check_sources(&[("fixtures/mini/base.law".into(), base), (name, text)]);
    (checked.error_count(), checked.render())
}

#[test]
fn base_fixture_is_clean() {
    let base = std::fs::read_to_string("tests/fixtures/mini/base.law").expect("fixture");
    let checked = lexpro::kb::check_sources(&[("base.law".into(), base)]);
    assert_eq!(checked.error_count(), 0, "{}", checked.render());
    assert_eq!(checked.kb.charges.len(), 1);
    assert_eq!(checked.kb.charges[0].bands.len(), 2);
}

#[test]
fn golden_diagnostics() {
    let bless = std::env::var_os("LEXPRO_BLESS").is_some();
    let mut cases: Vec<_> = std::fs::read_dir("tests/golden/diagnostics")
        .expect("golden dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "law"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "at least 15 kinds of error are covered");
    let mut mismatches = Vec::new();
    let mut codes = std::collections::BTreeSet::new();
    for case in &cases {
        let (errors, rendered) = check_with_base(case);
        assert!(errors > 0, "{} must produce an error", case.display());
        for line in rendered.lines().filter(|l| l.starts_with("error[")) {
            codes.insert(line[6..11].to_string());
        }
        let expected_path = case.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &rendered).expect("write golden");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != rendered {
            mismatches.push(format!("--- {}\n{}\n--- got\n{}", expected_path.display(), expected, rendered));
        }
    }
    assert!(mismatches.is_empty(), "golden mismatches (LEXPRO_BLESS=1 to regenerate):\n{}", mismatches.join("\n"));
    assert!(codes.len() >= 15, "distinct error codes covered: {codes:?}");
}

#[test]
fn all_errors_of_a_file_at_once() {
    let (errors, rendered) = check_with_base(Path::new("tests/golden/diagnostics/all_at_once.law"));
    assert!(errors >= 5, "{rendered}");
    for code in ["E0001", "E0602", "E0403", "E0206", "E0402"] {
        assert!(rendered.contains(code), "missing {code} in\n{rendered}");
    }
}

#[test]
fn garbage_never_panics() {
    let inputs = [
        "", "}", "{{{{", "article", "article 1 {", "charge \"", "r\"\"\"", "band 1 { when ( ( ( }", "element x grade { levels { } }",
        "threshold t money { national 1 yuan .. source \"\" }", "\u{0}\u{1}\u{7f}", "test \"x\" { given a = }", "charge \"x\" { band 99999999999999999999 {} }",
        "element e bool { cue \"(?P<n>\" }", "article 1-2-3 {}", "中文中文中文", "charge \"c\" { article 1 band 1 { penalty like \"c\" band 1 source \"s\" } }",
    ];
    for i in inputs {
        let c = lexpro::kb::check_sources(&[("x.law".into(), i.to_string())]);
        let _ = c.render();
    }
}
