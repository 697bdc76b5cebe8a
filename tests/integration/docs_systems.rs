//! docs/systems/: one page per seed system, and every test a page names exists, so a renamed
//! or deleted test cannot leave a page claiming coverage it no longer has.

use crate::support::root;

#[test]
fn every_seed_has_a_page_and_every_named_test_exists() {
    let dir = root().join("docs/systems");
    // The source documents are seeds 000 to 004 (reference/seeds/, outside this repository).
    let seeds = 5;
    let pages: Vec<_> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("00"))
        .collect();
    assert_eq!(pages.len(), seeds, "one page per seed: {pages:?}");
    let mut checked = 0;
    for page in &pages {
        let text = fs_err::read_to_string(page).unwrap();
        assert!(
            text.contains("stackctl "),
            "{}: no stackctl command",
            page.display()
        );
        // `module::function` names an integration test.
        for (module, function) in text.split('`').filter_map(|t| t.split_once("::")) {
            if module.contains(' ') || function.contains(' ') || module.is_empty() {
                continue;
            }
            let file = root()
                .join("tests/integration")
                .join(format!("{module}.rs"));
            let source = fs_err::read_to_string(&file)
                .unwrap_or_else(|_| panic!("{}: no test module `{module}`", page.display()));
            assert!(
                source.contains(&format!("fn {function}(")),
                "{}: `{module}::{function}` does not exist",
                page.display()
            );
            checked += 1;
        }
        // "`src/x.rs` `name`" names a unit test in that file.
        for line in text.lines() {
            let ticks: Vec<&str> = line.split('`').skip(1).step_by(2).collect();
            for pair in ticks.windows(2) {
                if pair[0].starts_with("src/")
                    && pair[0].ends_with(".rs")
                    && !pair[1].contains(' ')
                    && !pair[1].contains("::")
                {
                    let source = fs_err::read_to_string(root().join(pair[0])).unwrap();
                    assert!(
                        source.contains(&format!("fn {}(", pair[1])),
                        "{}: `{}` has no test `{}`",
                        page.display(),
                        pair[0],
                        pair[1]
                    );
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 20, "only {checked} test references found");
}
