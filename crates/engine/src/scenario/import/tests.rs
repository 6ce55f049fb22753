use super::*;
use crate::scenario::Scenario;

const HOUSEHOLD: &str = include_str!("../../../../../testdata/csv/household.csv");
const BAD: &str = include_str!("../../../../../testdata/csv/bad.csv");

fn demo() -> ScenarioForm {
    Scenario::demo().to_form()
}

fn auto(mode: ImportMode) -> ImportOptions {
    ImportOptions::auto(mode)
}

fn lots_of<'a>(f: &'a ScenarioForm, account: &str) -> &'a [LotForm] {
    &f.household
        .accounts
        .iter()
        .find(|a| a.id == account)
        .unwrap()
        .lots
}

#[test]
fn household_file_replaces_the_named_accounts() {
    let form = demo();
    let done = import_lots(&form, HOUSEHOLD, &auto(ImportMode::Replace)).unwrap();
    assert_eq!(done.imported, 5);
    assert_eq!(
        done.per_account,
        vec![("joint".to_string(), 4), ("ira_alex".to_string(), 1)]
    );
    assert_eq!(done.replaced, 13 + 5);
    let joint = lots_of(&done.form, "joint");
    assert_eq!(joint.len(), 4);
    assert_eq!(
        joint[0],
        LotForm {
            id: "csv-0001".into(),
            symbol: "VTI".into(),
            quantity: "120".into(),
            basis: "30120".into(),
            acquired: "2019-04-15".into(),
        }
    );
    // MM/DD/YYYY, fractional shares, $ and thousands separators.
    assert_eq!(joint[1].acquired, "2024-03-02");
    assert_eq!(joint[1].quantity, "15.5");
    assert_eq!(joint[1].basis, "4650.75");
    // An account named by its display name, case-insensitively.
    assert_eq!(joint[3].symbol, "VEA");
    assert_eq!(joint[3].quantity, "1000");
    assert_eq!(lots_of(&done.form, "ira_alex").len(), 1);
    // The Roth is untouched and the result validates.
    assert_eq!(lots_of(&done.form, "roth_sam"), lots_of(&form, "roth_sam"));
    let s = done.form.validate().unwrap();
    assert_eq!(s.account("joint").unwrap().lots[2].basis, 16400.0);
}

#[test]
fn add_mode_keeps_existing_lots_and_makes_unique_ids() {
    let form = demo();
    let done = import_lots(&form, HOUSEHOLD, &auto(ImportMode::Add)).unwrap();
    assert_eq!(done.replaced, 0);
    assert_eq!(lots_of(&done.form, "joint").len(), 13 + 4);
    // Importing the same file twice still gives unique ids.
    let again = import_lots(&done.form, HOUSEHOLD, &auto(ImportMode::Add)).unwrap();
    assert_eq!(lots_of(&again.form, "joint").len(), 13 + 8);
    assert!(again.form.validate().is_ok());
    assert_eq!(lots_of(&again.form, "joint")[17].id, "csv-0006");
}

#[test]
fn bad_file_reports_every_row_and_changes_nothing() {
    let form = demo();
    let errors = import_lots(&form, BAD, &auto(ImportMode::Replace)).unwrap_err();
    let got: Vec<(usize, Option<&str>)> = errors
        .iter()
        .map(|e| (e.row, e.column.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (3, Some("symbol")),
            (4, Some("quantity")),
            (5, Some("acquired")),
            (6, Some("account")),
            (7, Some("quantity")),
        ],
        "{errors:#?}"
    );
    assert!(errors[0].message.contains("unknown security `ZZZZ`"));
    assert!(errors[1].message.contains("`ten` is not a number"));
    assert!(errors[2].message.contains("not a date"));
    assert!(errors[3].message.contains("unknown account `nowhere`"));
    // SCHZ does not allow fractional shares: the form's own rule, mapped to the row.
    assert!(errors[4].message.contains("fractional"), "{}", errors[4]);
    assert_eq!(
        errors[0].to_string(),
        "row 3, column `symbol`: unknown security `ZZZZ`: add it under securities first"
    );
    // The caller's form is untouched by construction (&ScenarioForm); check anyway.
    assert_eq!(form, demo());
}

#[test]
fn schwab_like_preset_with_open_date_and_quoted_fields() {
    let csv = "\u{feff}\"Symbol\",\"Quantity\",\"Cost Basis\",\"Open Date\",\"Account\"\r\n\
               \"VTI\",\"10\",\"$3,354.00\",\"01/05/2021\",\"Alex traditional IRA\"\r\n\
               \"BND\",\"5.25\",\"$380.10\",\"2022-02-01\",\"ira_alex\"\r\n";
    let opts = ImportOptions {
        mapping: MappingChoice::Preset(ImportPreset::SchwabLike),
        mode: ImportMode::Replace,
        default_account: None,
    };
    let done = import_lots(&demo(), csv, &opts).unwrap();
    assert_eq!(done.per_account, vec![("ira_alex".to_string(), 2)]);
    let ira = lots_of(&done.form, "ira_alex");
    assert_eq!(ira[0].basis, "3354");
    assert_eq!(ira[0].acquired, "2021-01-05");
    assert_eq!(ira[1].quantity, "5.25");
    let headers = read_table(csv).unwrap().headers;
    assert_eq!(
        ColumnMapping::detect_preset(&headers),
        Some(ImportPreset::SchwabLike)
    );
}

#[test]
fn fidelity_like_preset_and_lot_ids_and_various() {
    let csv = "Account Number,Symbol,Quantity,Cost Basis Total,Date Acquired,Lot ID\n\
               roth_sam,VEA,12,\"$612.00\",06/30/2023,F-1\n\
               roth_sam,VWO,3,$120,Various,F-2\n";
    let opts = ImportOptions {
        mapping: MappingChoice::Preset(ImportPreset::FidelityLike),
        mode: ImportMode::Add,
        default_account: None,
    };
    let errors = import_lots(&demo(), csv, &opts).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].row, 3);
    assert_eq!(errors[0].column.as_deref(), Some("Date Acquired"));
    assert!(errors[0].message.contains("lot-level"));
    // With the aggregated row removed, the custodian's lot id is kept (auto-detected).
    let good = "Account Number,Symbol,Quantity,Cost Basis Total,Date Acquired,Lot ID\n\
                roth_sam,VEA,12,\"$612.00\",06/30/2023,F-1\n";
    let done = import_lots(&demo(), good, &ImportOptions::auto(ImportMode::Add)).unwrap();
    let roth = lots_of(&done.form, "roth_sam");
    assert_eq!(roth.last().unwrap().id, "F-1");
    let headers = read_table(good).unwrap().headers;
    assert_eq!(
        ColumnMapping::detect_preset(&headers),
        Some(ImportPreset::FidelityLike)
    );
}

/// Regression: the Generic header (`symbol,quantity,cost_basis,acquired,account`, the
/// README's own example) was shown as "Schwab-like", whose columns it also fits loosely.
#[test]
fn the_generic_header_is_detected_as_generic() {
    let headers: Vec<String> = ["symbol", "quantity", "cost_basis", "acquired", "account"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        ColumnMapping::detect_preset(&headers),
        Some(ImportPreset::Generic)
    );
    let schwab: Vec<String> = ["Symbol", "Quantity", "Cost Basis", "Open Date"]
        .map(String::from)
        .to_vec();
    assert_eq!(
        ColumnMapping::detect_preset(&schwab),
        Some(ImportPreset::SchwabLike)
    );
}

#[test]
fn preset_that_does_not_fit_names_the_missing_column() {
    let opts = ImportOptions {
        mapping: MappingChoice::Preset(ImportPreset::FidelityLike),
        mode: ImportMode::Add,
        default_account: None,
    };
    let errors = import_lots(&demo(), HOUSEHOLD, &opts).unwrap_err();
    assert!(errors.iter().all(|e| e.row == 1));
    assert!(errors
        .iter()
        .any(|e| e.column.as_deref() == Some("Cost Basis Total")));
}

#[test]
fn default_account_for_files_without_an_account_column() {
    let csv = "Ticker,Shares,Total Cost,Purchase Date\nVTI,1,300,2020-01-02\n";
    let no_default = import_lots(&demo(), csv, &auto(ImportMode::Add)).unwrap_err();
    assert!(no_default[0].message.contains("no account"));
    let opts = ImportOptions {
        default_account: Some("roth_sam".into()),
        ..auto(ImportMode::Add)
    };
    let done = import_lots(&demo(), csv, &opts).unwrap();
    assert_eq!(done.per_account, vec![("roth_sam".to_string(), 1)]);
    let bad = ImportOptions {
        default_account: Some("nope".into()),
        ..auto(ImportMode::Add)
    };
    assert!(import_lots(&demo(), csv, &bad).is_err());
}

#[test]
fn partial_detection_fills_what_it_recognises() {
    let headers: Vec<String> = ["Ticker Symbol", "Units", "Acct", "Date Acquired"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let m = ColumnMapping::detect_partial(&headers);
    assert_eq!(m.symbol, None);
    assert_eq!(m.quantity.as_deref(), Some("Units"));
    assert_eq!(m.account.as_deref(), Some("Acct"));
    assert_eq!(m.acquired.as_deref(), Some("Date Acquired"));
    let errors = ColumnMapping::detect(&headers).unwrap_err();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].message.contains("no column for symbol"));
    assert!(errors[1].message.contains("no column for total cost basis"));
}

#[test]
fn custom_mapping_is_checked_against_the_header() {
    let mut m = ColumnMapping::default();
    m.set(Field::Symbol, Some("symbol".into()));
    m.set(Field::Quantity, Some("quantity".into()));
    m.set(Field::CostBasis, Some("cost_basis".into()));
    m.set(Field::Acquired, Some("when".into()));
    let opts = ImportOptions {
        mapping: MappingChoice::Custom(m.clone()),
        mode: ImportMode::Add,
        default_account: Some("joint".into()),
    };
    let errors = import_lots(&demo(), HOUSEHOLD, &opts).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].column.as_deref(), Some("when"));
    m.set(Field::Acquired, Some("acquired".into()));
    let opts = ImportOptions {
        mapping: MappingChoice::Custom(m),
        ..opts
    };
    // No account column mapped: every lot goes to the default account.
    let done = import_lots(&demo(), HOUSEHOLD, &opts).unwrap();
    assert_eq!(done.per_account, vec![("joint".to_string(), 5)]);
    // One column for two fields is refused, not imported as a basis equal to the shares.
    let MappingChoice::Custom(mut m) = opts.mapping.clone() else {
        unreachable!()
    };
    m.set(Field::CostBasis, Some("quantity".into()));
    let opts = ImportOptions {
        mapping: MappingChoice::Custom(m),
        ..opts
    };
    let errors = import_lots(&demo(), HOUSEHOLD, &opts).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].column.as_deref(), Some("quantity"));
    assert!(
        errors[0].message.contains("both shares and"),
        "{}",
        errors[0].message
    );
}

#[test]
fn lots_after_the_scenario_date_are_row_errors() {
    let csv = "symbol,quantity,cost_basis,acquired,account\nVTI,1,300,2030-01-02,joint\n";
    let errors = import_lots(&demo(), csv, &auto(ImportMode::Add)).unwrap_err();
    assert_eq!(errors[0].row, 2);
    assert_eq!(errors[0].column.as_deref(), Some("acquired"));
    assert!(errors[0].message.contains("after the scenario date"));
}

#[test]
fn malformed_and_empty_files() {
    assert!(
        import_lots(&demo(), "", &auto(ImportMode::Add)).unwrap_err()[0]
            .message
            .contains("empty")
    );
    let header_only = "symbol,quantity,cost_basis,acquired\n\n";
    assert_eq!(
        import_lots(&demo(), header_only, &auto(ImportMode::Add)).unwrap_err()[0].row,
        2
    );
    let dup = "symbol,Symbol,quantity,cost_basis,acquired\n";
    assert_eq!(
        read_table(dup).unwrap_err()[0].column.as_deref(),
        Some("Symbol")
    );
    // A quoted field with an embedded newline and comma is one cell; row numbers count
    // records, not lines.
    let csv = "symbol,quantity,cost_basis,acquired,account,note\n\
               VTI,1,300,2020-01-02,joint,\"two\nlines, one cell\"\n\
               VTI,x,300,2020-01-02,joint,\n";
    let errors = import_lots(&demo(), csv, &auto(ImportMode::Add)).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].row, 3);
    // Short rows are refused whole, not padded: a left-out cell would shift the others.
    let short = "symbol,quantity,cost_basis,acquired,account\nVTI,1\n";
    let errors = import_lots(&demo(), short, &auto(ImportMode::Add)).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].row, 2);
    assert!(errors[0]
        .message
        .starts_with("2 cells but the header has 5: every row needs a cell"));
}

/// Regression: `.flexible(true)` and positional cells read an unquoted thousands
/// separator as a valid lot with basis `$3`, dropping the `100.00`.
#[test]
fn row_with_an_extra_cell_is_an_error_naming_the_row() {
    let csv = "account,symbol,acquired,quantity,cost_basis\n\
               joint,VTI,2020-01-02,10,\"$3,100.00\"\n\
               joint,VTI,2020-01-02,10,$3,100.00\n\
               joint,BND,2020-01-02,5,500\n";
    let form = demo();
    let errors = import_lots(&form, csv, &auto(ImportMode::Add)).unwrap_err();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(
        errors[0].to_string(),
        "row 3: 6 cells but the header has 5 (an unquoted comma in a number? quote the \
         field: \"$3,100.00\")"
    );
    assert_eq!(form, demo());
    // The same through `parse_rows`, and the well-formed rows alone import.
    let table = read_table(csv).unwrap();
    let mapping = resolve_mapping(&table, &MappingChoice::Auto).unwrap();
    let errors = parse_rows(&form, &table, &mapping, &auto(ImportMode::Add)).unwrap_err();
    assert_eq!(errors.iter().map(|e| e.row).collect::<Vec<_>>(), vec![3]);
    let fixed = csv.replace(",$3,100.00\n", ",\"$3,100.00\"\n");
    let done = import_lots(&form, &fixed, &auto(ImportMode::Add)).unwrap();
    assert_eq!(done.imported, 3);
    assert_eq!(lots_of(&done.form, "joint")[14].basis, "3100");
}

#[test]
fn width_errors_hint_at_the_cause() {
    let header = "symbol,quantity,cost_basis,acquired,account,lot_id\n";
    // A trailing comma where the last value was meant to be empty.
    let trailing = format!("{header}VTI,10,3100,2020-01-02,joint,,\n");
    let e = &import_lots(&demo(), &trailing, &auto(ImportMode::Add)).unwrap_err()[0];
    assert!(e
        .message
        .contains("7 cells but the header has 6 (a trailing comma?"));
    // A split number spanning three cells is quoted whole.
    let split = format!("{header}VTI,10,$12,345,678.90,2020-01-02,joint,L1\n");
    let e = &import_lots(&demo(), &split, &auto(ImportMode::Add)).unwrap_err()[0];
    assert!(
        e.message.contains("quote the field: \"$12,345,678.90\""),
        "{e}"
    );
    // No number to blame: a generic example.
    let text = format!("{header}VTI,10,3100,2020-01-02,joint,L1,note\n");
    let e = &import_lots(&demo(), &text, &auto(ImportMode::Add)).unwrap_err()[0];
    assert!(e.message.contains("e.g. \"$3,100.00\""), "{e}");
}

/// Regression: every comma was deleted, so `1,5` read as 15 and `1.234,56` as 1.23456.
#[test]
fn decimal_commas_are_refused_as_ambiguous() {
    for (text, decimal) in [
        ("1,5", "1.5"),
        ("1.234,56", "1234.56"),
        ("12,34", "12.34"),
        ("1,2345", "1.2345"),
        ("$1.234.567,89", "1234567.89"),
        ("0,500", "0.500"),
        ("(1,5)", "-1.5"),
        ("1 234,56", "1234.56"),
    ] {
        let m = parse_amount(text).unwrap_err();
        assert_eq!(
            m,
            format!(
                "`{text}` is ambiguous: write {decimal} if the comma is a decimal point (a \
                 comma may only separate thousands, as in 1,234.56)"
            )
        );
    }
    for text in [",123", "1,,234", "1,234,5", "1,234.5,6", "1,a"] {
        assert!(parse_amount(text).is_err(), "{text}");
    }
    // Through an import: the row and column are named, nothing is imported.
    let csv = "symbol,quantity,cost_basis,acquired,account\nVTI,\"1,5\",300,2020-01-02,joint\n";
    let errors = import_lots(&demo(), csv, &auto(ImportMode::Add)).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].row, errors[0].column.as_deref()),
        (2, Some("quantity"))
    );
    assert!(errors[0].message.contains("ambiguous: write 1.5"));
}

#[test]
fn standard_thousands_separators_are_read() {
    for (text, value) in [
        ("1,234", 1234.0),
        ("1,234.56", 1234.56),
        ("$12,345", 12345.0),
        ("$12,345,678.9", 12345678.9),
        ("(1,234.50)", -1234.5),
        ("-$1,234", -1234.0),
        ("$-1,234", -1234.0),
        ("+1,000", 1000.0),
        ("$ 1,234.56", 1234.56),
        ("999,999.", 999999.0),
        ("1234.5", 1234.5),
        ("0.5", 0.5),
        ("0", 0.0),
    ] {
        assert_eq!(parse_amount(text), Ok(value), "{text}");
    }
}

#[test]
fn amounts_and_dates() {
    assert_eq!(parse_amount("$1,234.56"), Ok(1234.56));
    assert_eq!(parse_amount(" 1 200 "), Ok(1200.0));
    assert_eq!(parse_amount("($5.00)"), Ok(-5.0));
    assert_eq!(parse_amount("-3"), Ok(-3.0));
    assert!(parse_amount("1.2.3").is_err());
    assert!(parse_amount("--").is_err());
    assert!(parse_amount("N/A").is_err());
    assert!(parse_amount("$").is_err());
    assert_eq!(parse_date("2024-02-29").unwrap().to_string(), "2024-02-29");
    assert_eq!(parse_date("2/9/2024").unwrap().to_string(), "2024-02-09");
    assert_eq!(parse_date("12/31/2023").unwrap().to_string(), "2023-12-31");
    assert!(parse_date("02/30/2024").is_err());
    assert!(parse_date("31/12/2023").is_err());
    assert!(parse_date("12/31/23").is_err());
    assert!(parse_date("2024/01/02").is_err());
    assert!(parse_date("Various").unwrap_err().contains("lot-level"));
}

#[test]
fn preset_keys_round_trip() {
    for p in ImportPreset::ALL {
        assert_eq!(ImportPreset::from_key(p.key()), Some(p));
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, format!("\"{}\"", p.key()));
    }
}
