//! "Did you mean": the closest of the names a place allows, for an unknown one.

/// The candidate most like `word` (Jaro-Winkler similarity), when it is at least `min_score`
/// alike (0 to 1; 0.8 keeps `notbook` -> `notebook` and drops unrelated names).
pub fn closest<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
    min_score: f64,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score >= min_score)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn the_closest_name_above_the_score() {
        let keys = ["name", "network", "notebook", "jobs"];
        assert_eq!(closest("notbook", keys, 0.8), Some("notebook"));
        assert_eq!(closest("netwrok", keys, 0.8), Some("network"));
        assert_eq!(closest("zzz", keys, 0.8), None);
    }
}
