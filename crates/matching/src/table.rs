//! CSV import and export of inventory items, the spreadsheet way in and out.
//!
//! The columns are [`COLUMNS`]; the header row names them in any order and
//! any case (`Internet facing` and `internet-facing` are read as
//! `internet_facing`), and any may be left out as long as every row still
//! identifies a product. Import is all or nothing: one bad row and nothing is
//! imported, with every problem listed by line and column.
//!
//! Export guards against formula injection: a cell that a spreadsheet would
//! run as a formula (starting `=`, `+`, `-`, `@`, tab or carriage return) is
//! written with a leading `'`, which import takes off again, so what is
//! exported reads back unchanged.

use crate::inventory::ItemFields;
use std::borrow::Cow;
use std::fmt;

/// The columns, in the order export writes them.
pub const COLUMNS: [&str; 10] = [
    "name",
    "vendor",
    "product",
    "version",
    "cpe",
    "purl",
    "internet_facing",
    "business_critical",
    "owner",
    "notes",
];

/// Most data rows one file may hold.
pub const MAX_ROWS: usize = 10_000;

/// Most row problems reported for one file.
pub const MAX_PROBLEMS: usize = 50;

/// One thing wrong with one row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line in the file where the row starts; the header is line 1.
    pub line: usize,
    /// The column at fault (its name, or its position when it has none).
    pub field: String,
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.field, self.message
        )
    }
}

/// Why a CSV file was not imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("the file is empty; it needs a header row and one row per item")]
    Empty,
    #[error(
        "the file is not UTF-8 text (the first bad character is on line {line}); in Excel, use Save As and choose \"CSV UTF-8\""
    )]
    NotUtf8 { line: usize },
    #[error("the first line must be a header naming the columns, e.g. {}", COLUMNS.join(","))]
    MissingHeader,
    #[error(
        "the header has {} {}; the columns are {}",
        if .0.len() == 1 { "an unknown column" } else { "unknown columns" },
        quoted_list(.0),
        COLUMNS.join(", ")
    )]
    UnknownColumns(Vec<String>),
    #[error("the header names the column {0} more than once")]
    DuplicateColumn(String),
    #[error("the file has more than {limit} rows; split it into files of at most {limit} rows")]
    TooManyRows { limit: usize },
    #[error("{}", rows_message(.0))]
    Rows(Vec<RowProblem>),
}

fn quoted_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("\"{n}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

fn rows_message(problems: &[RowProblem]) -> String {
    let mut out = String::from("nothing was imported; fix these rows and try again:");
    for p in problems {
        out.push('\n');
        out.push_str(&p.to_string());
    }
    if problems.len() >= MAX_PROBLEMS {
        out.push_str(&format!(
            "\n(only the first {MAX_PROBLEMS} problems are listed; there may be more)"
        ));
    }
    out
}

/// Read items from CSV. Every row is validated as if typed into the form;
/// all rows are returned, or none. Never panics, whatever the bytes.
pub fn read_csv(bytes: &[u8]) -> Result<Vec<ItemFields>, TableError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let good = bytes.get(..e.valid_up_to()).unwrap_or_default();
        TableError::NotUtf8 {
            line: 1 + good.iter().filter(|&&b| b == b'\n').count(),
        }
    })?;
    if text.trim().is_empty() {
        return Err(TableError::Empty);
    }
    let mut records = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records();
    let header = match records.next() {
        None => return Err(TableError::Empty),
        Some(Ok(header)) => header,
        Some(Err(e)) => {
            return Err(TableError::Rows(vec![RowProblem {
                line: error_line(text, &e),
                field: "header".into(),
                message: e.to_string(),
            }]));
        }
    };
    let columns = read_header(&header)?;

    let mut items = Vec::new();
    let mut problems = Vec::new();
    let mut rows = 0usize;
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                if problems.len() < MAX_PROBLEMS {
                    problems.push(RowProblem {
                        line: error_line(text, &e),
                        field: "row".into(),
                        message: e.to_string(),
                    });
                }
                continue;
            }
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        rows += 1;
        if rows > MAX_ROWS {
            return Err(TableError::TooManyRows { limit: MAX_ROWS });
        }
        let line = record.position().map_or(0, |p| line_at(text, p));
        match read_row(&columns, &record) {
            Ok(item) => items.push(item),
            Err(found) => {
                for (field, message) in found {
                    if problems.len() < MAX_PROBLEMS {
                        problems.push(RowProblem {
                            line,
                            field,
                            message,
                        });
                    }
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(TableError::Rows(problems))
    }
}

fn error_line(text: &str, e: &csv::Error) -> usize {
    e.position().map_or(0, |p| line_at(text, p))
}

/// The 1-based line a position falls on, counted from its byte offset: the
/// csv crate's own line count drifts on CRLF files (Excel's and ours).
fn line_at(text: &str, p: &csv::Position) -> usize {
    let mut at = usize::try_from(p.byte())
        .unwrap_or(usize::MAX)
        .min(text.len());
    // With CRLF the reader may place a record at the `\n` ending the previous one.
    while matches!(text.as_bytes().get(at), Some(b'\r' | b'\n')) {
        at += 1;
    }
    let before = text.as_bytes().get(..at).unwrap_or_default();
    1 + before.iter().filter(|&&b| b == b'\n').count()
}

/// Which of [`COLUMNS`] each cell of a row holds; `None` for a column with
/// a blank header (ignored while its cells are blank too).
fn read_header(header: &csv::StringRecord) -> Result<Vec<Option<usize>>, TableError> {
    let mut columns = Vec::with_capacity(header.len());
    let mut unknown = Vec::new();
    for cell in header.iter() {
        let name = cell.trim().to_lowercase().replace([' ', '-'], "_");
        if name.is_empty() {
            columns.push(None);
            continue;
        }
        match COLUMNS.iter().position(|c| *c == name) {
            Some(i) if columns.contains(&Some(i)) => {
                return Err(TableError::DuplicateColumn(COLUMNS[i].to_string()));
            }
            Some(i) => columns.push(Some(i)),
            None => {
                unknown.push(cell.trim().to_string());
                columns.push(None);
            }
        }
    }
    if columns.iter().all(Option::is_none) {
        return Err(TableError::MissingHeader);
    }
    if !unknown.is_empty() {
        return Err(TableError::UnknownColumns(unknown));
    }
    Ok(columns)
}

/// One data row as a validated item, or every (column, message) wrong with it.
fn read_row(
    columns: &[Option<usize>],
    record: &csv::StringRecord,
) -> Result<ItemFields, Vec<(String, String)>> {
    let mut cells: [Option<String>; COLUMNS.len()] = Default::default();
    let mut problems = Vec::new();
    for (i, cell) in record.iter().enumerate() {
        match columns.get(i).copied().flatten().and_then(|c| cells.get_mut(c)) {
            Some(slot) => *slot = Some(unescape(cell).to_string()),
            None if cell.trim().is_empty() => {}
            None => problems.push((
                (i + 1).to_string(),
                format!(
                    "has a value ({}) but the header names no column {}; add a header or remove the value",
                    shorten(cell),
                    i + 1
                ),
            )),
        }
    }
    let [
        name,
        vendor,
        product,
        version,
        cpe,
        purl,
        internet_facing,
        business_critical,
        owner,
        notes,
    ] = cells;
    let mut flag = |column: &str, cell: Option<String>| match read_bool(cell.as_deref()) {
        Ok(b) => b,
        Err(message) => {
            problems.push((column.to_string(), message));
            false
        }
    };
    let internet_facing = flag("internet_facing", internet_facing);
    let business_critical = flag("business_critical", business_critical);
    let item = ItemFields {
        name: name.unwrap_or_default(),
        vendor,
        product,
        version,
        cpe,
        purl,
        internet_facing,
        business_critical,
        owner,
        notes,
    }
    .validate();
    match item {
        Ok(item) if problems.is_empty() => Ok(item),
        Ok(_) => Err(problems),
        Err(p) => {
            problems.push((p.field.to_string(), p.message));
            Err(problems)
        }
    }
}

fn read_bool(cell: Option<&str>) -> Result<bool, String> {
    let value = cell.unwrap_or_default().trim();
    match value.to_lowercase().as_str() {
        "" | "no" | "n" | "false" | "0" => Ok(false),
        "yes" | "y" | "true" | "1" => Ok(true),
        _ => Err(format!(
            "must be yes or no (or y/n, true/false, 1/0, or blank for no), not {}",
            shorten(value)
        )),
    }
}

/// A cell's value quoted for a message, cut short if long.
fn shorten(cell: &str) -> String {
    const MAX: usize = 40;
    if cell.chars().count() > MAX {
        format!("\"{}…\"", cell.chars().take(MAX).collect::<String>())
    } else {
        format!("\"{cell}\"")
    }
}

/// Would a spreadsheet take this cell for a formula, once any apostrophes
/// we added in front are set aside? (`=1+1`, `'=1+1`, `''@x`.)
fn formula_like(cell: &str) -> bool {
    cell.trim_start_matches('\'')
        .starts_with(['=', '+', '-', '@', '\t', '\r'])
}

/// Export: put an apostrophe in front of a formula-like cell.
fn escape(cell: &str) -> Cow<'_, str> {
    if formula_like(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Import: take off the apostrophe [`escape`] put there.
fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

/// Write items as CSV: a header row, then one row per item, columns in the
/// order of [`COLUMNS`], yes/no for the flags, formula-like cells guarded.
pub fn write_csv(items: &[ItemFields]) -> String {
    let mut out = String::new();
    write_row(&mut out, &COLUMNS);
    fn text(v: &Option<String>) -> &str {
        v.as_deref().unwrap_or_default()
    }
    let yes_no = |b: bool| if b { "yes" } else { "no" };
    for item in items {
        write_row(
            &mut out,
            &[
                item.name.as_str(),
                text(&item.vendor),
                text(&item.product),
                text(&item.version),
                text(&item.cpe),
                text(&item.purl),
                yes_no(item.internet_facing),
                yes_no(item.business_critical),
                text(&item.owner),
                text(&item.notes),
            ],
        );
    }
    out
}

fn write_row(out: &mut String, cells: &[&str]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let cell = escape(cell);
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&cell);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn problems(csv: &str) -> Vec<RowProblem> {
        match read_csv(csv.as_bytes()) {
            Err(TableError::Rows(p)) => p,
            other => panic!("expected row problems, got {other:?}"),
        }
    }

    fn problem(line: usize, field: &str, message: &str) -> RowProblem {
        RowProblem {
            line,
            field: field.into(),
            message: message.into(),
        }
    }

    #[test]
    fn reads_a_typical_spreadsheet() {
        let csv = "\u{FEFF}Name,Vendor,Product,Version,Internet Facing,business-critical,Owner,Notes\r\n\
                   Payroll,Sage,Payroll,29.1,no,YES,Finance IT,\r\n\
                   \r\n\
                   Email,Microsoft,Exchange Server,2019 CU12,y,,\"Smith, J\",\"on-prem\nDAG of 2\"\r\n\
                   ,,,,,,,\r\n";
        let items = read_csv(csv.as_bytes()).expect("reads");
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].name, "Payroll");
        assert_eq!(items[0].vendor.as_deref(), Some("Sage"));
        assert!(!items[0].internet_facing && items[0].business_critical);
        assert_eq!(items[0].notes, None);
        assert_eq!(items[1].owner.as_deref(), Some("Smith, J"));
        assert_eq!(items[1].notes.as_deref(), Some("on-prem\nDAG of 2"));
        assert!(items[1].internet_facing && !items[1].business_critical);
    }

    #[test]
    fn columns_may_come_in_any_order_and_cpe_or_purl_alone_will_do() {
        let csv = "PURL,cpe\n\
                   pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1,\n\
                   ,cpe:/a:apache:http_server:2.4.49\n";
        let items = read_csv(csv.as_bytes()).expect("reads");
        assert_eq!(items[0].product.as_deref(), Some("log4j-core"));
        assert_eq!(items[0].version.as_deref(), Some("2.14.1"));
        assert_eq!(
            items[1].cpe.as_deref(),
            Some("cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*")
        );
        // A header alone is an empty inventory, not an error.
        assert_eq!(read_csv(b"name,product\r\n"), Ok(vec![]));
    }

    #[test]
    fn booleans() {
        for (cell, want) in [
            ("yes", true),
            ("Y", true),
            ("TRUE", true),
            ("1", true),
            (" no ", false),
            ("n", false),
            ("False", false),
            ("0", false),
            ("", false),
        ] {
            let csv = format!("product,internet_facing\nX,{cell}\n");
            let items = read_csv(csv.as_bytes()).expect(cell);
            assert_eq!(items[0].internet_facing, want, "{cell:?}");
        }
    }

    #[test]
    fn crlf_files_report_the_right_lines() {
        let e = read_csv(b"name,product,purl\r\nA,x,\r\nB,y,maven/bad\r\n").expect_err("bad purl");
        let TableError::Rows(found) = e else {
            panic!("row problems expected");
        };
        assert_eq!((found[0].line, found[0].field.as_str()), (3, "purl"));
    }

    #[test]
    fn every_bad_row_is_listed_with_its_line_and_column() {
        let csv = "name,product,purl,internet_facing,business_critical\n\
                   Good,Thing,,yes,no\n\
                   Flag,Thing,,maybe,sometimes\n\
                   \"Two\nlines\",Thing,maven/foo,,\n\
                   Nothing to match,,,,\n\
                   Too wide,Thing,,,,,extra\n";
        let found = problems(csv);
        assert_eq!(
            found,
            [
                problem(
                    3,
                    "internet_facing",
                    "must be yes or no (or y/n, true/false, 1/0, or blank for no), not \"maybe\""
                ),
                problem(
                    3,
                    "business_critical",
                    "must be yes or no (or y/n, true/false, 1/0, or blank for no), not \"sometimes\""
                ),
                problem(
                    4,
                    "purl",
                    &crate::purl::Purl::parse("maven/foo")
                        .expect_err("bad purl")
                        .to_string()
                ),
                problem(
                    6,
                    "product",
                    "give a product name, a CPE 2.3 name or a package URL"
                ),
                problem(
                    7,
                    "7",
                    "has a value (\"extra\") but the header names no column 7; add a header or remove the value"
                ),
            ]
        );
        assert!(found[2].message.starts_with("not a valid package URL ("));
        assert_eq!(
            found[2].to_string(),
            format!("line 4, column purl: {}", found[2].message)
        );
        let e = TableError::Rows(found);
        let shown = e.to_string();
        assert!(
            shown.starts_with(
                "nothing was imported; fix these rows and try again:\nline 3, column internet_facing: must be yes or no"
            ),
            "{shown}"
        );
        assert!(shown.contains("\nline 6, column product: give a product name"));
        assert!(!shown.contains("only the first"));
    }

    #[test]
    fn cells_under_a_blank_header_must_be_blank() {
        let csv = "product,,version\nA,,1\nB,oops,2\n";
        assert_eq!(
            problems(csv),
            [problem(
                3,
                "2",
                "has a value (\"oops\") but the header names no column 2; add a header or remove the value"
            )]
        );
    }

    #[test]
    fn field_problems_from_validation_name_the_column() {
        let long = "x".repeat(crate::inventory::MAX_FIELD + 1);
        let csv = format!("product,owner,cpe\nA,{long},\nB,,cpe:2.3:a:*:*:*:*:*:*:*:*:*:*\n");
        let found = problems(&csv);
        assert_eq!(found.len(), 2);
        assert_eq!((found[0].line, found[0].field.as_str()), (2, "owner"));
        assert_eq!(found[0].message, "is longer than 200 characters");
        assert_eq!((found[1].line, found[1].field.as_str()), (3, "cpe"));
    }

    #[test]
    fn problems_are_capped() {
        let mut csv = String::from("product,internet_facing\n");
        for _ in 0..80 {
            csv.push_str("X,perhaps\n");
        }
        let found = problems(&csv);
        assert_eq!(found.len(), MAX_PROBLEMS);
        assert_eq!(found[0].line, 2);
        assert_eq!(found[49].line, 51);
        assert!(
            TableError::Rows(found)
                .to_string()
                .ends_with("(only the first 50 problems are listed; there may be more)")
        );
    }

    #[test]
    fn file_level_errors() {
        assert_eq!(read_csv(b""), Err(TableError::Empty));
        assert_eq!(read_csv(b"\xEF\xBB\xBF \r\n\n"), Err(TableError::Empty));

        let e = read_csv(b"product\nCaf\xE9 system\nb\n").expect_err("latin-1");
        assert_eq!(e, TableError::NotUtf8 { line: 2 });
        assert_eq!(
            e.to_string(),
            "the file is not UTF-8 text (the first bad character is on line 2); in Excel, use Save As and choose \"CSV UTF-8\""
        );
        assert_eq!(
            read_csv(b"\xFF\xFEp\0r\0"),
            Err(TableError::NotUtf8 { line: 1 })
        );

        let e = read_csv(b"Payroll,Sage,Payroll,29.1\n").expect_err("no header");
        assert_eq!(e, TableError::MissingHeader);
        assert_eq!(
            e.to_string(),
            "the first line must be a header naming the columns, e.g. name,vendor,product,version,cpe,purl,internet_facing,business_critical,owner,notes"
        );

        let e = read_csv(b"name,Colour,product,size\nA,red,B,9\n").expect_err("unknown");
        assert_eq!(
            e,
            TableError::UnknownColumns(vec!["Colour".into(), "size".into()])
        );
        assert_eq!(
            e.to_string(),
            "the header has unknown columns \"Colour\", \"size\"; the columns are name, vendor, product, version, cpe, purl, internet_facing, business_critical, owner, notes"
        );
        let e = read_csv(b"product,serial\n").expect_err("unknown");
        assert!(
            e.to_string()
                .starts_with("the header has an unknown column \"serial\";")
        );

        let e = read_csv(b"product,Product\nA,B\n").expect_err("twice");
        assert_eq!(e, TableError::DuplicateColumn("product".into()));
        assert_eq!(
            e.to_string(),
            "the header names the column product more than once"
        );
    }

    #[test]
    fn row_limit() {
        let mut csv = String::from("product\n");
        for i in 0..MAX_ROWS {
            csv.push_str(&format!("p{i}\n"));
        }
        assert_eq!(read_csv(csv.as_bytes()).map(|v| v.len()), Ok(MAX_ROWS));
        csv.push_str("one too many\n");
        let e = read_csv(csv.as_bytes()).expect_err("too many");
        assert_eq!(e, TableError::TooManyRows { limit: MAX_ROWS });
        assert_eq!(
            e.to_string(),
            "the file has more than 10000 rows; split it into files of at most 10000 rows"
        );
    }

    #[test]
    fn export_guards_formulas_and_quotes_what_needs_it() {
        let items = [ItemFields {
            name: "=HYPERLINK(\"http://evil\",\"x\")".into(),
            vendor: Some("@acme".into()),
            product: Some("+plus, minus".into()),
            version: Some("-1".into()),
            owner: Some("\tTabbed".into()),
            notes: Some("'=already quoted\nsecond line".into()),
            internet_facing: true,
            ..ItemFields::default()
        }];
        let csv = write_csv(&items);
        assert_eq!(
            csv,
            "name,vendor,product,version,cpe,purl,internet_facing,business_critical,owner,notes\r\n\
             \"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",'@acme,\"'+plus, minus\",'-1,,,yes,no,'\tTabbed,\"''=already quoted\nsecond line\"\r\n"
        );
        // Cells that only look alike are left alone.
        assert_eq!(escape("a=b"), "a=b");
        assert_eq!(escape("'quoted"), "'quoted");
        assert_eq!(unescape("'quoted"), "'quoted");
        assert_eq!(unescape("'=1+1"), "=1+1");
        assert_eq!(unescape("''=1+1"), "'=1+1");
        assert_eq!(unescape("'"), "'");
        assert_eq!(write_csv(&[]), format!("{}\r\n", COLUMNS.join(",")));
    }

    #[test]
    fn an_apostrophe_typed_before_a_formula_is_taken_off() {
        let items = read_csv(b"product,vendor\n'=cmd|' /C calc'!A0,'O'Reilly\n").expect("reads");
        assert_eq!(items[0].product.as_deref(), Some("=cmd|' /C calc'!A0"));
        assert_eq!(items[0].vendor.as_deref(), Some("'O'Reilly"));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let sample = write_csv(&[ItemFields {
            name: "x, \"y\"\nz".into(),
            purl: Some("pkg:npm/%40babel/core@7.0.0".into()),
            ..ItemFields::default()
        }]);
        let bytes = sample.as_bytes();
        for len in 0..=bytes.len() {
            let _ = read_csv(&bytes[..len]);
        }
        let mut state = 0x9e37_79b9_u32;
        const ALPHABET: &[u8] = b"ab,\"\r\n'=:/@pkgcpe\xFF\xC3 product,purl,cpe\n";
        for _ in 0..500 {
            let bytes: Vec<u8> = (0..(state % 200))
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    ALPHABET[state as usize % ALPHABET.len()]
                })
                .collect();
            let _ = read_csv(&bytes);
        }
    }

    fn text() -> impl Strategy<Value = String> {
        let pieces = prop::sample::select(vec![
            "a", "Z", "7", " ", ",", "\"", "'", "\n", "\r\n", "\t", "=", "+", "-", "@", "é", "ü",
            ";", ".", "/", ":", "€",
        ]);
        prop::collection::vec(pieces, 0..10).prop_map(|p| p.concat())
    }

    fn optional(s: impl Strategy<Value = String>) -> impl Strategy<Value = Option<String>> {
        prop::option::of(s)
    }

    fn pick(values: &'static [&'static str]) -> impl Strategy<Value = Option<String>> {
        prop::option::of(prop::sample::select(values).prop_map(str::to_string))
    }

    prop_compose! {
        fn item()(
            name in text(),
            vendor in optional(text()),
            product in optional(text()),
            version in pick(&["1.0", "2.14.1", "v1.8.0", "2019 CU12", "-1", "=2", "1,2", "'3"]),
            cpe in pick(&[
                "cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*",
                "cpe:/a:microsoft:exchange_server:2019",
                "cpe:2.3:o:linux:linux_kernel:5.10:*:*:*:*:*:*:*",
            ]),
            purl in pick(&[
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                "pkg:npm/%40babel/core",
                "pkg:golang/github.com/gin-gonic/gin@v1.5.0",
                "pkg:pypi/Django_Rest@3.0",
            ]),
            internet_facing in any::<bool>(),
            business_critical in any::<bool>(),
            owner in optional(text()),
            notes in optional(text()),
        ) -> ItemFields {
            ItemFields {
                name, vendor, product, version, cpe, purl,
                internet_facing, business_critical, owner, notes,
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 512,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        #[test]
        fn what_is_written_reads_back_the_same(raw in prop::collection::vec(item(), 0..8)) {
            let items: Vec<ItemFields> = raw
                .into_iter()
                .filter_map(|i| i.validate().ok())
                .collect();
            let csv = write_csv(&items);
            prop_assert_eq!(read_csv(csv.as_bytes()), Ok(items));
        }
    }
}
