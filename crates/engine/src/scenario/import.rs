//! CSV import of tax lots from a custodian's positions export.
//!
//! ## Overview
//!
//! A file is read with a real CSV parser (quoted fields, embedded commas and quotes,
//! CRLF line ends, a UTF-8 byte-order mark). Its header row names the columns; a
//! [`ColumnMapping`] says which header holds each value of a lot. Mappings come from a
//! [`ImportPreset`] (common export shapes) or from [`ColumnMapping::detect`], which
//! recognises the usual header names.
//!
//! Values are read leniently where exports differ and strictly where a guess could be
//! wrong: money and share counts may carry `$`, thousands separators and spaces, but a
//! comma is only ever a thousands separator in groups of three (`1,234.56`; `1,5` is
//! refused as ambiguous, see [`parse_amount`]); dates are `YYYY-MM-DD` or `MM/DD/YYYY`
//! (US order, as US custodians export them); a row must have exactly as many cells as
//! the header; anything else is a row error, never a guess.
//!
//! The import is all-or-nothing: [`import_lots`] returns a new [`ScenarioForm`] with the
//! lots added (or each named account's lots replaced), or every problem found, each an
//! [`ImportError`] naming the row (the header is row 1) and the column. The new lots are
//! also run through the form's own validation (fractional shares, acquisition after the
//! scenario date, …) and those problems are reported against their rows too, so an
//! import never produces a lot the form would reject.
//!
//! ## Usage
//!
//! ```
//! use tollbooth_engine::scenario::import::{import_lots, ImportMode, ImportOptions};
//! use tollbooth_engine::scenario::Scenario;
//! let form = Scenario::demo().to_form();
//! let csv = "symbol,quantity,cost_basis,acquired,account\n\
//!            VTI,10,\"$3,100.00\",03/02/2020,joint\n";
//! let done = import_lots(&form, csv, &ImportOptions::auto(ImportMode::Add)).unwrap();
//! assert_eq!(done.imported, 1);
//! assert!(done.form.validate().is_ok());
//! ```

use super::form::{LotForm, ScenarioForm};
use crate::date::Date;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A problem with one row (or the header) of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("row {row}{}: {message}", column_suffix(.column))]
pub struct ImportError {
    /// The row, 1-based, the header being row 1 (so the first lot is row 2).
    pub row: usize,
    /// The column's header, when the problem is in one cell.
    pub column: Option<String>,
    /// What is wrong, in plain English.
    pub message: String,
}

fn column_suffix(c: &Option<String>) -> String {
    c.as_ref()
        .map(|c| format!(", column `{c}`"))
        .unwrap_or_default()
}

impl ImportError {
    fn new(row: usize, column: Option<&str>, message: impl Into<String>) -> ImportError {
        ImportError {
            row,
            column: column.map(str::to_string),
            message: message.into(),
        }
    }
}

/// The export shapes Tollbooth knows by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportPreset {
    /// Symbol, Quantity, Cost Basis, Acquired (or Open Date), Account.
    SchwabLike,
    /// Account Number, Symbol, Quantity, Cost Basis Total, Date Acquired.
    FidelityLike,
    /// symbol, quantity, cost_basis, acquired, account (Tollbooth's own shape).
    Generic,
}

impl ImportPreset {
    /// Every preset, in display order.
    pub const ALL: [ImportPreset; 3] = [
        ImportPreset::SchwabLike,
        ImportPreset::FidelityLike,
        ImportPreset::Generic,
    ];

    /// The name shown in the app.
    pub fn name(self) -> &'static str {
        match self {
            ImportPreset::SchwabLike => "Schwab-like",
            ImportPreset::FidelityLike => "Fidelity-like",
            ImportPreset::Generic => "Generic",
        }
    }

    /// A stable key (the serde name).
    pub fn key(self) -> &'static str {
        match self {
            ImportPreset::SchwabLike => "schwab_like",
            ImportPreset::FidelityLike => "fidelity_like",
            ImportPreset::Generic => "generic",
        }
    }

    /// The preset with this [`key`](ImportPreset::key).
    pub fn from_key(key: &str) -> Option<ImportPreset> {
        ImportPreset::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The preset's columns. The Schwab-like shape accepts `Acquired` or `Open Date`.
    fn columns(self) -> [(Field, &'static [&'static str]); 5] {
        match self {
            ImportPreset::SchwabLike => [
                (Field::Symbol, &["Symbol"]),
                (Field::Quantity, &["Quantity"]),
                (Field::CostBasis, &["Cost Basis"]),
                (Field::Acquired, &["Acquired", "Open Date"]),
                (Field::Account, &["Account"]),
            ],
            ImportPreset::FidelityLike => [
                (Field::Symbol, &["Symbol"]),
                (Field::Quantity, &["Quantity"]),
                (Field::CostBasis, &["Cost Basis Total"]),
                (Field::Acquired, &["Date Acquired"]),
                (Field::Account, &["Account Number"]),
            ],
            ImportPreset::Generic => [
                (Field::Symbol, &["symbol"]),
                (Field::Quantity, &["quantity"]),
                (Field::CostBasis, &["cost_basis"]),
                (Field::Acquired, &["acquired"]),
                (Field::Account, &["account"]),
            ],
        }
    }

    /// The preset's mapping resolved against a header row: the account column is
    /// optional (a file for one account may lack it); the others are required.
    pub fn mapping(self, headers: &[String]) -> Result<ColumnMapping, Vec<ImportError>> {
        let mut m = ColumnMapping::default();
        let mut errors = Vec::new();
        for (field, names) in self.columns() {
            let found = names
                .iter()
                .find_map(|n| headers.iter().find(|h| norm(h) == norm(n)));
            match found {
                Some(h) => m.set(field, Some(h.clone())),
                None if field == Field::Account => {}
                None => errors.push(ImportError::new(
                    1,
                    Some(names[0]),
                    format!(
                        "the {} preset needs a `{}` column; the header has: {}",
                        self.name(),
                        names.join("` or `"),
                        list(headers)
                    ),
                )),
            }
        }
        if errors.is_empty() {
            Ok(m)
        } else {
            Err(errors)
        }
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The ticker.
    Symbol,
    /// Shares.
    Quantity,
    /// Total cost basis, dollars.
    CostBasis,
    /// Acquisition date.
    Acquired,
    /// The account (its id or name); optional.
    Account,
    /// The custodian's lot id; optional (new ids are made otherwise).
    LotId,
}

impl Field {
    /// Every field, in display order.
    pub const ALL: [Field; 6] = [
        Field::Symbol,
        Field::Quantity,
        Field::CostBasis,
        Field::Acquired,
        Field::Account,
        Field::LotId,
    ];

    /// A label for the mapping table.
    pub fn label(self) -> &'static str {
        match self {
            Field::Symbol => "Symbol",
            Field::Quantity => "Shares",
            Field::CostBasis => "Total cost basis ($)",
            Field::Acquired => "Acquired",
            Field::Account => "Account",
            Field::LotId => "Lot id",
        }
    }

    /// Whether a mapping must name a column for this field.
    pub fn required(self) -> bool {
        !matches!(self, Field::Account | Field::LotId)
    }

    /// Header names recognised by [`ColumnMapping::detect`] (compared ignoring case,
    /// spaces and punctuation).
    fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::Symbol => &["symbol", "ticker", "security symbol", "symbol/cusip"],
            Field::Quantity => &["quantity", "shares", "qty", "units", "share quantity"],
            Field::CostBasis => &[
                "cost basis",
                "cost_basis",
                "cost basis total",
                "total cost basis",
                "cost basis ($)",
                "basis",
                "total cost",
            ],
            Field::Acquired => &[
                "acquired",
                "date acquired",
                "acquisition date",
                "open date",
                "purchase date",
                "trade date",
            ],
            Field::Account => &[
                "account",
                "account number",
                "account id",
                "account name",
                "acct",
            ],
            Field::LotId => &["lot id", "lot", "lot number"],
        }
    }
}

/// Which header holds each value of a lot (`None`: the file has no such column).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ColumnMapping {
    /// Ticker column.
    pub symbol: Option<String>,
    /// Shares column.
    pub quantity: Option<String>,
    /// Total cost basis column.
    pub cost_basis: Option<String>,
    /// Acquisition date column.
    pub acquired: Option<String>,
    /// Account column (id or name); without it every lot goes to the default account.
    pub account: Option<String>,
    /// Lot id column.
    pub lot_id: Option<String>,
}

impl ColumnMapping {
    /// The header mapped to a field.
    pub fn get(&self, f: Field) -> Option<&str> {
        match f {
            Field::Symbol => self.symbol.as_deref(),
            Field::Quantity => self.quantity.as_deref(),
            Field::CostBasis => self.cost_basis.as_deref(),
            Field::Acquired => self.acquired.as_deref(),
            Field::Account => self.account.as_deref(),
            Field::LotId => self.lot_id.as_deref(),
        }
    }

    /// Maps a field to a header (or to nothing).
    pub fn set(&mut self, f: Field, header: Option<String>) {
        let slot = match f {
            Field::Symbol => &mut self.symbol,
            Field::Quantity => &mut self.quantity,
            Field::CostBasis => &mut self.cost_basis,
            Field::Acquired => &mut self.acquired,
            Field::Account => &mut self.account,
            Field::LotId => &mut self.lot_id,
        };
        *slot = header;
    }

    /// The columns recognised by their header names, as far as they go (a starting
    /// point for a hand-made mapping).
    pub fn detect_partial(headers: &[String]) -> ColumnMapping {
        let mut m = ColumnMapping::default();
        for f in Field::ALL {
            let found = f
                .synonyms()
                .iter()
                .find_map(|s| headers.iter().find(|h| norm(h) == norm(s)));
            m.set(f, found.cloned());
        }
        m
    }

    /// Recognises columns by their header names; every required field must be found.
    pub fn detect(headers: &[String]) -> Result<ColumnMapping, Vec<ImportError>> {
        let m = ColumnMapping::detect_partial(headers);
        let mut errors = Vec::new();
        for f in Field::ALL {
            match m.get(f) {
                Some(_) => {}
                None if f.required() => errors.push(ImportError::new(
                    1,
                    None,
                    format!(
                        "no column for {} (looked for a header like `{}`); the header has: {}",
                        f.label().to_lowercase(),
                        f.synonyms()[0],
                        list(headers)
                    ),
                )),
                None => {}
            }
        }
        if errors.is_empty() {
            Ok(m)
        } else {
            Err(errors)
        }
    }

    /// Which preset, if any, this file's header matches: of those whose columns it has
    /// (names compared loosely: `cost_basis` is `Cost Basis`), the one whose own spelling
    /// it uses for the most columns (`symbol,quantity,cost_basis` is Generic, not
    /// Schwab-like), the first in [`ImportPreset::ALL`] order on a tie.
    pub fn detect_preset(headers: &[String]) -> Option<ImportPreset> {
        let spelled = |p: ImportPreset| {
            p.columns()
                .iter()
                .filter(|(_, names)| names.iter().any(|n| headers.iter().any(|h| h.trim() == *n)))
                .count()
        };
        let mut best: Option<(usize, ImportPreset)> = None;
        for p in ImportPreset::ALL
            .into_iter()
            .filter(|p| p.mapping(headers).is_ok())
        {
            let k = spelled(p);
            if best.is_none_or(|(b, _)| k > b) {
                best = Some((k, p));
            }
        }
        best.map(|(_, p)| p)
    }
}

/// How the mapping is chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MappingChoice {
    /// Recognise the columns by their header names.
    Auto,
    /// A named preset.
    Preset(ImportPreset),
    /// An explicit mapping.
    Custom(ColumnMapping),
}

/// What happens to the lots already in an account the file names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// The file's lots replace every lot of each account that appears in the file.
    Replace,
    /// The file's lots are added after the existing ones.
    Add,
}

/// Options of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportOptions {
    /// The column mapping.
    pub mapping: MappingChoice,
    /// Replace or add.
    pub mode: ImportMode,
    /// The account (id) for rows without an account column or with an empty account
    /// cell.
    pub default_account: Option<String>,
}

impl ImportOptions {
    /// Auto-detected columns, no default account.
    pub fn auto(mode: ImportMode) -> ImportOptions {
        ImportOptions {
            mapping: MappingChoice::Auto,
            mode,
            default_account: None,
        }
    }
}

/// The parsed file before it is applied: its header and cells.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CsvTable {
    /// Header cells (trimmed).
    pub headers: Vec<String>,
    /// Data rows: `(row number, cells)`, the header being row 1; blank rows are dropped.
    /// A row may have more or fewer cells than the header: reading lots refuses it.
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Reads CSV text into a [`CsvTable`]. Errors name the row.
pub fn read_table(text: &str) -> Result<CsvTable, Vec<ImportError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut table = CsvTable::default();
    let mut errors = Vec::new();
    let mut header_seen = false;
    for (i, rec) in rdr.records().enumerate() {
        let row = i + 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                errors.push(ImportError::new(
                    row,
                    None,
                    format!("not readable as CSV: {e}"),
                ));
                continue;
            }
        };
        let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
        if !header_seen {
            header_seen = true;
            let mut seen = BTreeSet::new();
            for h in &cells {
                if !h.is_empty() && !seen.insert(norm(h)) {
                    errors.push(ImportError::new(
                        1,
                        Some(h),
                        "this header appears twice: rename one of the columns",
                    ));
                }
            }
            table.headers = cells;
            continue;
        }
        if cells.iter().all(|c| c.is_empty()) {
            continue;
        }
        table.rows.push((row, cells));
    }
    if !header_seen {
        errors.push(ImportError::new(
            1,
            None,
            "the file is empty: it needs a header row and one row per lot",
        ));
    } else if table.rows.is_empty() && errors.is_empty() {
        errors.push(ImportError::new(
            2,
            None,
            "the file has a header but no lots",
        ));
    }
    if errors.is_empty() {
        Ok(table)
    } else {
        Err(errors)
    }
}

/// The mapping an import would use for this table.
pub fn resolve_mapping(
    table: &CsvTable,
    choice: &MappingChoice,
) -> Result<ColumnMapping, Vec<ImportError>> {
    match choice {
        MappingChoice::Auto => ColumnMapping::detect(&table.headers),
        MappingChoice::Preset(p) => p.mapping(&table.headers),
        MappingChoice::Custom(m) => {
            let mut errors = Vec::new();
            for f in Field::ALL {
                match m.get(f) {
                    Some(h) if !table.headers.iter().any(|x| x == h) => {
                        errors.push(ImportError::new(
                            1,
                            Some(h),
                            format!(
                                "the mapping names a column the file does not have; the header \
                                 has: {}",
                                list(&table.headers)
                            ),
                        ))
                    }
                    None if f.required() => errors.push(ImportError::new(
                        1,
                        None,
                        format!("choose the column for {}", f.label().to_lowercase()),
                    )),
                    _ => {}
                }
            }
            // One column feeds one field: a column chosen twice would, say, make every
            // lot's basis its share count.
            for (i, f) in Field::ALL.iter().enumerate() {
                let Some(h) = m.get(*f) else { continue };
                let first = Field::ALL[..i].iter().find(|g| m.get(**g) == Some(h));
                if let Some(g) = first {
                    errors.push(ImportError::new(
                        1,
                        Some(h),
                        format!(
                            "the mapping uses this column for both {} and {}; choose one \
                             column per field",
                            g.label().to_lowercase(),
                            f.label().to_lowercase()
                        ),
                    ));
                }
            }
            if errors.is_empty() {
                Ok(m.clone())
            } else {
                Err(errors)
            }
        }
    }
}

/// A lot read from one row, not yet placed in the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportedLot {
    /// The row it came from (header = row 1).
    pub row: usize,
    /// The account's index in the form.
    pub account: usize,
    /// The lot, its numbers written in the form's plain notation.
    pub lot: LotForm,
}

/// The result of a successful import.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportOutcome {
    /// The form with the lots in place.
    pub form: ScenarioForm,
    /// The mapping used.
    pub mapping: ColumnMapping,
    /// Lots imported.
    pub imported: usize,
    /// `(account id, lots imported)` for each account the file touched, in form order.
    pub per_account: Vec<(String, usize)>,
    /// Lots removed from those accounts ([`ImportMode::Replace`]).
    pub replaced: usize,
}

/// Reads the lots of a CSV file and places them in a copy of `form`; all or nothing.
pub fn import_lots(
    form: &ScenarioForm,
    text: &str,
    options: &ImportOptions,
) -> Result<ImportOutcome, Vec<ImportError>> {
    let table = read_table(text)?;
    let mapping = resolve_mapping(&table, &options.mapping)?;
    let (lots, mut errors) = read_rows(form, &table, &mapping, options)?;
    // Place the good rows even when others failed, so the form's own checks on them are
    // reported in the same pass.
    match place(form, lots, mapping, options.mode) {
        Ok(done) if errors.is_empty() => Ok(done),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            errors.sort_by_key(|e| e.row);
            Err(errors)
        }
    }
}

/// Reads every data row with a mapping: symbols, accounts, numbers and dates.
///
/// A row with more or fewer cells than the header is an error naming the row, never
/// padded or cut (a shifted cell could be read as a wrong but valid value).
pub fn parse_rows(
    form: &ScenarioForm,
    table: &CsvTable,
    mapping: &ColumnMapping,
    options: &ImportOptions,
) -> Result<Vec<ImportedLot>, Vec<ImportError>> {
    match read_rows(form, table, mapping, options)? {
        (lots, errors) if errors.is_empty() => Ok(lots),
        (_, errors) => Err(errors),
    }
}

/// The good rows and the errors of the bad ones (`Err`: the options themselves are wrong).
///
/// Cells are found by position, so a row must have exactly as many cells as the header;
/// any other row is an error and none of its cells is read. Neither a short row nor a
/// long one is padded or cut: a missing cell in the middle would shift the ones after
/// it, and an unquoted thousands separator (`10,$3,100.00`) splits one value in two, so
/// either could be read as a wrong but valid lot. An empty cell is written as nothing
/// between two commas.
#[allow(clippy::type_complexity)]
fn read_rows(
    form: &ScenarioForm,
    table: &CsvTable,
    mapping: &ColumnMapping,
    options: &ImportOptions,
) -> Result<(Vec<ImportedLot>, Vec<ImportError>), Vec<ImportError>> {
    let col = |f: Field| {
        mapping
            .get(f)
            .and_then(|h| table.headers.iter().position(|x| x == h))
            .map(|i| (i, mapping.get(f).unwrap_or_default()))
    };
    let accounts = &form.household.accounts;
    let default_account = match &options.default_account {
        Some(id) if !id.is_empty() => match accounts.iter().position(|a| &a.id == id) {
            Some(i) => Some(i),
            None => {
                return Err(vec![ImportError::new(
                    1,
                    None,
                    format!("the default account `{id}` is not in the scenario"),
                )])
            }
        },
        _ => None,
    };
    let mut errors = Vec::new();
    let mut out = Vec::new();
    let mut seen_ids: BTreeMap<String, usize> = BTreeMap::new();
    for (row, cells) in &table.rows {
        let row = *row;
        if cells.len() != table.headers.len() {
            errors.push(ImportError::new(
                row,
                None,
                width_problem(cells, table.headers.len()),
            ));
            continue;
        }
        let cell = |f: Field| -> Option<(&str, &str)> {
            col(f).map(|(i, h)| (cells.get(i).map_or("", String::as_str), h))
        };
        let before = errors.len();
        let mut need = |f: Field| -> Option<(&str, &str)> {
            let (v, h) = cell(f)?;
            if v.is_empty() {
                errors.push(ImportError::new(row, Some(h), "empty: a value is required"));
                None
            } else {
                Some((v, h))
            }
        };
        let symbol = need(Field::Symbol);
        let quantity = need(Field::Quantity);
        let basis = need(Field::CostBasis);
        let acquired = need(Field::Acquired);

        let symbol = symbol.and_then(|(v, h)| {
            let s = v.to_ascii_uppercase();
            if form.securities.iter().any(|x| x.symbol.trim() == s) {
                Some(s)
            } else {
                errors.push(ImportError::new(
                    row,
                    Some(h),
                    format!("unknown security `{v}`: add it under securities first"),
                ));
                None
            }
        });
        let quantity = quantity.and_then(|(v, h)| match parse_amount(v) {
            Ok(q) if q > 0.0 => Some(q),
            Ok(_) => {
                errors.push(ImportError::new(
                    row,
                    Some(h),
                    format!("`{v}`: shares must be greater than 0"),
                ));
                None
            }
            Err(m) => {
                errors.push(ImportError::new(row, Some(h), m));
                None
            }
        });
        let basis = basis.and_then(|(v, h)| match parse_amount(v) {
            Ok(b) if b >= 0.0 => Some(b),
            Ok(_) => {
                errors.push(ImportError::new(
                    row,
                    Some(h),
                    format!("`{v}`: a cost basis cannot be negative"),
                ));
                None
            }
            Err(m) => {
                errors.push(ImportError::new(row, Some(h), m));
                None
            }
        });
        let acquired = acquired.and_then(|(v, h)| match parse_date(v) {
            Ok(d) => Some(d),
            Err(m) => {
                errors.push(ImportError::new(row, Some(h), m));
                None
            }
        });
        let account = match cell(Field::Account) {
            Some((v, h)) if !v.is_empty() => match find_account(form, v) {
                Some(i) => Some(i),
                None => {
                    errors.push(ImportError::new(
                        row,
                        Some(h),
                        format!(
                            "unknown account `{v}`: use an account id or name ({})",
                            accounts
                                .iter()
                                .map(|a| a.id.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                    None
                }
            },
            other => match default_account {
                Some(i) => Some(i),
                None => {
                    errors.push(ImportError::new(
                        row,
                        other.map(|(_, h)| h),
                        "no account: fill the account column or choose an account for the \
                         whole file",
                    ));
                    None
                }
            },
        };
        let lot_id = match cell(Field::LotId) {
            Some((v, h)) if !v.is_empty() => {
                if let Some(first) = seen_ids.insert(v.to_string(), row) {
                    errors.push(ImportError::new(
                        row,
                        Some(h),
                        format!("lot id `{v}` is already used in row {first}"),
                    ));
                }
                v.to_string()
            }
            _ => String::new(),
        };
        if errors.len() > before {
            continue;
        }
        if let (Some(symbol), Some(q), Some(b), Some(d), Some(account)) =
            (symbol, quantity, basis, acquired, account)
        {
            out.push(ImportedLot {
                row,
                account,
                lot: LotForm {
                    id: lot_id,
                    symbol,
                    quantity: format!("{q}"),
                    basis: format!("{b}"),
                    acquired: d.to_string(),
                },
            });
        }
    }
    Ok((out, errors))
}

/// Places parsed lots in a copy of the form, makes ids, then validates: any problem the
/// form finds with a new lot becomes a row error.
fn place(
    form: &ScenarioForm,
    lots: Vec<ImportedLot>,
    mapping: ColumnMapping,
    mode: ImportMode,
) -> Result<ImportOutcome, Vec<ImportError>> {
    let mut next = form.clone();
    let touched: BTreeSet<usize> = lots.iter().map(|l| l.account).collect();
    let mut replaced = 0;
    if mode == ImportMode::Replace {
        for &a in &touched {
            replaced += next.household.accounts[a].lots.len();
            next.household.accounts[a].lots.clear();
        }
    }
    // Ids already taken by the lots that stay, and by the file's own ids.
    let mut taken: BTreeSet<String> = next
        .household
        .accounts
        .iter()
        .flat_map(|a| a.lots.iter().map(|l| l.id.clone()))
        .collect();
    let mut errors = Vec::new();
    for l in &lots {
        if !l.lot.id.is_empty() && !taken.insert(l.lot.id.clone()) {
            errors.push(ImportError::new(
                l.row,
                mapping.lot_id.as_deref(),
                format!("lot id `{}` is already used in the scenario", l.lot.id),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut counter = 0usize;
    // (account index, lot index) → row, to map validation errors back to rows.
    let mut origin: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    let mut per_account: BTreeMap<usize, usize> = BTreeMap::new();
    let imported = lots.len();
    for mut l in lots {
        if l.lot.id.is_empty() {
            l.lot.id = loop {
                counter += 1;
                let id = format!("csv-{counter:04}");
                if taken.insert(id.clone()) {
                    break id;
                }
            };
        }
        let acc = &mut next.household.accounts[l.account];
        origin.insert((l.account, acc.lots.len()), l.row);
        acc.lots.push(l.lot);
        *per_account.entry(l.account).or_default() += 1;
    }
    if let Err(field_errors) = next.validate() {
        for e in field_errors {
            if let Some((a, k, field)) = lot_path(&e.path) {
                if let Some(&row) = origin.get(&(a, k)) {
                    let f = match field {
                        "symbol" => Some(Field::Symbol),
                        "quantity" => Some(Field::Quantity),
                        "basis" => Some(Field::CostBasis),
                        "acquired" => Some(Field::Acquired),
                        "id" => Some(Field::LotId),
                        _ => None,
                    };
                    let column = f.and_then(|f| mapping.get(f));
                    errors.push(ImportError::new(row, column, e.message));
                }
            }
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(errors);
    }
    Ok(ImportOutcome {
        per_account: per_account
            .into_iter()
            .map(|(a, n)| (next.household.accounts[a].id.clone(), n))
            .collect(),
        form: next,
        mapping,
        imported,
        replaced,
    })
}

/// Why a row has `cells.len()` cells where the header has `width`, with the likely fix.
/// For a long row the hint quotes the first run of cells that reads as one number when
/// joined by commas (`$3` and `100.00` → `"$3,100.00"`).
fn width_problem(cells: &[String], width: usize) -> String {
    let n = cells.len();
    if n < width {
        return format!(
            "{n} cells but the header has {width}: every row needs a cell for each column \
             (leave a value out as an empty cell, e.g. `VTI,10,,2020-01-02`)"
        );
    }
    let joined = (0..n).find_map(|i| {
        let mut run = cells[i].clone();
        for next in &cells[i + 1..] {
            let longer = format!("{run},{next}");
            if parse_amount(&longer).is_err() {
                break;
            }
            run = longer;
        }
        (run.len() > cells[i].len()).then_some(run)
    });
    let hint = if cells[width..].iter().all(String::is_empty) {
        "a trailing comma? remove it, or quote any value that contains a comma".to_string()
    } else if let Some(j) = joined {
        format!("an unquoted comma in a number? quote the field: \"{j}\"")
    } else {
        "an unquoted comma in a value? quote the field, e.g. \"$3,100.00\"".to_string()
    };
    format!("{n} cells but the header has {width} ({hint})")
}

/// `household.accounts[A].lots[K].FIELD` → `(A, K, FIELD)`.
fn lot_path(path: &str) -> Option<(usize, usize, &str)> {
    let rest = path.strip_prefix("household.accounts[")?;
    let (a, rest) = rest.split_once("].lots[")?;
    let (k, field) = rest.split_once("].")?;
    Some((a.parse().ok()?, k.parse().ok()?, field))
}

fn find_account(form: &ScenarioForm, v: &str) -> Option<usize> {
    let accounts = &form.household.accounts;
    accounts
        .iter()
        .position(|a| a.id.trim() == v)
        .or_else(|| {
            accounts
                .iter()
                .position(|a| a.name.trim().eq_ignore_ascii_case(v))
        })
        .or_else(|| {
            accounts
                .iter()
                .position(|a| a.id.trim().eq_ignore_ascii_case(v))
        })
}

/// A dollar amount or share count as exports write them: `$1,234.56`, `1 200`, `-5`.
/// Parentheses (accounting negatives) are read as negative.
///
/// A comma is read only as a thousands separator in the standard grouping: one to three
/// digits (not starting with `0`), then groups of exactly three, all before any decimal
/// point (`1,234`, `1,234.56`, `$12,345,678.9`, `(1,234.50)`). Any other comma (`1,5`,
/// `1.234,56`, `12,34`, `1,2345`) is refused as ambiguous, never guessed: in much of
/// the world it is a decimal comma (the form's own number parser refuses it too).
pub fn parse_amount(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (neg, inner) = match t.strip_prefix('(').and_then(|x| x.strip_suffix(')')) {
        Some(x) => (true, x),
        None => (false, t),
    };
    let not_a_number =
        || format!("`{t}` is not a number (expected e.g. 1234.56, 1,234.56 or $1,234.56)");
    let cleaned: String = inner
        .chars()
        .filter(|c| !matches!(c, '$' | ' ' | '\u{a0}'))
        .collect();
    let chars_ok = !cleaned.is_empty()
        && cleaned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b',' | b'-' | b'+'));
    if !chars_ok {
        return Err(not_a_number());
    }
    let plain = if cleaned.contains(',') {
        match ungroup(&cleaned) {
            Some(p) => p,
            None => {
                return Err(match decimal_comma_reading(&cleaned, neg) {
                    Some(d) => format!(
                        "`{t}` is ambiguous: write {d} if the comma is a decimal point (a \
                         comma may only separate thousands, as in 1,234.56)"
                    ),
                    None => not_a_number(),
                })
            }
        }
    } else {
        cleaned
    };
    let one_point = plain.bytes().filter(|&b| b == b'.').count() <= 1;
    match plain.parse::<f64>() {
        Ok(v) if one_point && v.is_finite() => Ok(if neg { -v } else { v }),
        _ => Err(not_a_number()),
    }
}

/// `s` without its commas, when they are standard thousands separators: an optional
/// sign, one to three digits not starting with `0`, then `,` and exactly three digits,
/// repeated, all before any `.` (`-1,234.5` → `-1234.5`). `None` for any other comma.
fn ungroup(s: &str) -> Option<String> {
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    let sign = &s[..s.len() - body.len()];
    let (int, frac) = body.split_at(body.find('.').unwrap_or(body.len()));
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    let mut groups = int.split(',');
    let first = groups.next()?;
    let ok = (1..=3).contains(&first.len())
        && digits(first)
        && !first.starts_with('0')
        && groups.all(|g| g.len() == 3 && digits(g))
        && !frac.contains(',');
    ok.then(|| format!("{sign}{}{frac}", int.replace(',', "")))
}

/// The number `s` (digits, signs, points, commas) would be if its last comma were a
/// decimal point and its points thousands separators (`1.234,56` → `1234.56`), for the
/// error message; `None` if that is not a number either.
fn decimal_comma_reading(s: &str, neg: bool) -> Option<String> {
    let no_points = s.replace('.', "");
    let (int, frac) = no_points.rsplit_once(',')?;
    let d = format!(
        "{}{}.{frac}",
        if neg { "-" } else { "" },
        int.replace(',', "")
    );
    d.parse::<f64>().ok().filter(|v| v.is_finite())?;
    Some(d)
}

/// A date as `YYYY-MM-DD` or `MM/DD/YYYY` (also `M/D/YYYY`).
pub fn parse_date(text: &str) -> Result<Date, String> {
    let t = text.trim();
    let bad = || {
        if t.eq_ignore_ascii_case("various") {
            format!(
                "`{t}`: this row aggregates several lots; export lot-level detail (one row \
                 per lot)"
            )
        } else {
            format!("`{t}` is not a date: use YYYY-MM-DD or MM/DD/YYYY")
        }
    };
    if t.contains('-') {
        return t.parse::<Date>().map_err(|_| bad());
    }
    let parts: Vec<&str> = t.split('/').collect();
    if parts.len() != 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
        || parts[2].len() != 4
        || parts[0].len() > 2
        || parts[1].len() > 2
    {
        return Err(bad());
    }
    let m: u32 = parts[0].parse().map_err(|_| bad())?;
    let d: u32 = parts[1].parse().map_err(|_| bad())?;
    let y: i32 = parts[2].parse().map_err(|_| bad())?;
    Date::from_ymd(y, m, d).ok_or_else(bad)
}

/// Header comparison key: lowercase letters and digits only.
fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn list(headers: &[String]) -> String {
    if headers.is_empty() {
        return "(nothing)".to_string();
    }
    headers
        .iter()
        .map(|h| format!("`{h}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl fmt::Display for ImportPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests;
