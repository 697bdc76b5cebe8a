//! Plain-text tables with aligned columns that fit [`WIDTH`] columns: a cell too long for its
//! share of the width is wrapped inside its column, at spaces where it has them.

/// The widest line a table (or a [`wrap`]ped text) prints: a terminal of 100 columns, or a
/// log viewer, shows every line whole.
pub const WIDTH: usize = 100;
/// Every table line starts with this.
const INDENT: &str = "  ";
/// Between two columns.
const GAP: &str = "  ";

/// Formats `rows` under `headers`, columns separated by two spaces, each line indented by two.
/// When the columns do not fit [`WIDTH`], the widest ones share what is left and their cells
/// continue on the next lines, in the same column.
pub fn table<const N: usize>(headers: [&str; N], rows: &[[String; N]]) -> String {
    let mut natural = headers.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in natural.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let widths = fit(
        natural,
        WIDTH - INDENT.len() - GAP.len() * N.saturating_sub(1),
    );
    let mut out = String::new();
    let mut line = |cells: [&str; N]| {
        let wrapped: Vec<Vec<String>> = cells
            .iter()
            .zip(widths)
            .map(|(cell, w)| wrap(cell, w))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        for row in 0..height {
            let mut text = String::from(INDENT);
            for (i, (lines, w)) in wrapped.iter().zip(widths).enumerate() {
                let part = lines.get(row).map_or("", String::as_str);
                if i + 1 == N {
                    text.push_str(part);
                } else {
                    text.push_str(&format!("{part:<w$}{GAP}"));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
    };
    line(headers);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
    out
}

/// Column widths within `room`: columns narrower than an equal share keep their width, the
/// others split what is left equally (the first ones get the remainder).
fn fit<const N: usize>(natural: [usize; N], room: usize) -> [usize; N] {
    if natural.iter().sum::<usize>() <= room {
        return natural;
    }
    let mut widths = [0; N];
    let mut fixed = [false; N];
    let mut left = room;
    loop {
        let open = fixed.iter().filter(|f| !**f).count();
        if open == 0 {
            return widths;
        }
        let share = left / open;
        let mut changed = false;
        for i in 0..N {
            if !fixed[i] && natural[i] <= share {
                widths[i] = natural[i];
                fixed[i] = true;
                left -= natural[i];
                changed = true;
            }
        }
        if !changed {
            let mut extra = left % open;
            for i in (0..N).filter(|i| !fixed[*i]) {
                widths[i] = (share + usize::from(extra > 0)).max(1);
                extra = extra.saturating_sub(1);
            }
            return widths;
        }
    }
}

/// `text` in lines of at most `width` characters, broken at spaces; a word longer than a line
/// (an ARN, a path) is cut at the width. Empty text is one empty line.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let mut word: Vec<char> = word.chars().collect();
        let used = current.chars().count();
        if used > 0 && used + 1 + word.len() <= width {
            current.push(' ');
            current.extend(&word);
            continue;
        }
        if used > 0 {
            lines.push(std::mem::take(&mut current));
        }
        while word.len() > width {
            lines.push(word.drain(..width).collect());
        }
        current.extend(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns() {
        let t = table(
            ["ID", "TYPE"],
            &[
                ["Vpc".into(), "AWS::EC2::VPC".into()],
                ["SecurityGroup".into(), "X".into()],
            ],
        );
        assert_eq!(
            t,
            "  ID             TYPE\n  Vpc            AWS::EC2::VPC\n  SecurityGroup  X\n"
        );
    }

    /// A table wider than 100 columns: every line fits, narrow columns keep their width, the
    /// wide cells continue in their own column at word boundaries, and no text is lost.
    #[test]
    fn a_wide_table_wraps_its_widest_cells_inside_their_columns() {
        let note = "0.3 per GB-month stored; the COCO 2017 layout (about 20 GB) costs about 6.00 per month, and more words to wrap";
        let arn = format!("arn:aws:iam::123456789012:role/{}", "x".repeat(90));
        let rows = [
            ["EFS storage".to_owned(), "-".to_owned(), note.to_owned()],
            ["role".to_owned(), arn.clone(), "short".to_owned()],
        ];
        let t = table(["ITEM", "VALUE", "NOTE"], &rows);
        let lines: Vec<&str> = t.lines().collect();
        for line in &lines {
            assert!(
                line.chars().count() <= WIDTH,
                "{} > {WIDTH}: {line}",
                line.len()
            );
        }
        // The first column is narrow and keeps its width; on every line the gap before each
        // later column is blank, so the columns stay aligned.
        let note_col = lines[0].find("NOTE").unwrap();
        let value_col = lines[0].find("VALUE").unwrap();
        assert_eq!(value_col, "  EFS storage  ".len());
        for line in &lines {
            for col in [value_col, note_col] {
                if line.len() >= col {
                    assert_eq!(&line[col - 2..col], "  ", "not aligned at {col}: {line}");
                }
            }
        }
        // Words stay whole: the note's lines joined with spaces are the note.
        let note_lines: Vec<&str> = lines[1..]
            .iter()
            .take_while(|l| !l.contains("role"))
            .map(|l| l.get(note_col..).unwrap_or("").trim())
            .collect();
        assert!(note_lines.len() > 1, "{t}");
        assert_eq!(note_lines.join(" "), note);
        // The ARN has no spaces: it is cut at the column width, and nothing is lost.
        let arn_lines: String = lines
            .iter()
            .skip_while(|l| !l.contains("role"))
            .map(|l| {
                l[value_col..]
                    .get(..note_col - value_col - 2)
                    .unwrap_or(&l[value_col..])
                    .trim()
            })
            .collect();
        assert_eq!(arn_lines, arn);
    }

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_only_long_words() {
        assert_eq!(wrap("a bb ccc dddd", 6), ["a bb", "ccc", "dddd"]);
        assert_eq!(wrap("abcdefgh ij", 3), ["abc", "def", "gh", "ij"]);
        assert_eq!(wrap("", 5), [""]);
        assert_eq!(wrap("fits", 10), ["fits"]);
    }
}
