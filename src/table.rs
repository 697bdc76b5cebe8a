//! Plain-text tables with aligned columns.

/// Formats `rows` under `headers`, columns separated by two spaces, each line indented by two.
pub fn table<const N: usize>(headers: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = headers.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: [&str; N]| {
        let mut text = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(headers);
    for row in rows {
        line(row.each_ref().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn aligns_columns() {
        let t = super::table(
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
}
