use super::form::{SecurityVolForm, ShockKind, Toggle};
use super::market::{default_assumptions, default_correlation};
use super::*;
use crate::fees::FeePreset;
use crate::tax::FilingStatus;

/// The demo's pinned hash. It changes whenever the demo file or the canonical form of a
/// scenario changes (a field added, renamed or reordered). When that change is intended,
/// run `cargo test -p tollbooth-engine demo_hash_is_pinned` and copy the new value from
/// the failure message; note it in the commit message, since reports carry this hash.
const DEMO_HASH: &str = "e9f82c72a962a782";

fn demo_form() -> ScenarioForm {
    Scenario::demo().to_form()
}

/// Validates the demo form after `edit` and returns the errors (panics if it validates).
fn errors_after(edit: impl FnOnce(&mut ScenarioForm)) -> Vec<FieldError> {
    let mut f = demo_form();
    edit(&mut f);
    match f.validate() {
        Ok(_) => panic!("the edited form validated"),
        Err(e) => e,
    }
}

/// Asserts the edit yields exactly one error, at `path`, and returns its message.
fn only_error(path: &str, edit: impl FnOnce(&mut ScenarioForm)) -> String {
    let errs = errors_after(edit);
    assert_eq!(
        errs.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
        vec![path],
        "{errs:#?}"
    );
    errs[0].message.clone()
}

#[test]
fn demo_loads_and_validates() {
    let s = Scenario::demo();
    assert_eq!(s.schema_version, SCHEMA_VERSION);
    assert_eq!(s.household.members.len(), 2);
    let kinds: Vec<AccountKind> = s.household.accounts.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        [
            AccountKind::Taxable,
            AccountKind::TraditionalIra,
            AccountKind::RothIra
        ]
    );
    assert!(s.household.accounts[0].joint);
    assert_eq!(s.securities.len(), 21);
    assert_eq!(s.policies.len(), 3);
    assert_eq!(
        s.baseline_policy().map(|p| p.name.as_str()),
        Some("Quarterly calendar")
    );
    // Every security has partners in other groups.
    for sec in &s.securities {
        assert!(!sec.partners.is_empty(), "{}", sec.symbol);
    }
    // The embedded data equals the code's defaults and presets.
    assert_eq!(s.market.classes, default_assumptions());
    assert_eq!(s.market.correlation, default_correlation());
    assert_eq!(
        s.fee_schedules,
        vec![FeeSchedule::preset(FeePreset::FlatClearing)]
    );
    assert_eq!(s.regulatory, RegulatoryTables::default());
    let v = s.household_value();
    assert!((1.3e6..1.7e6).contains(&v), "household value {v}");
    let tlh = s.policies[1].tlh.expect("TLH policy");
    assert_eq!(tlh.wash_sale_guard, policy::WashSaleGuard::Household);
    assert!(s.policies[2].optimizer.is_some());
    // Gains and losses both present in the taxable account.
    let price = |sym: &str| s.security(sym).map_or(0.0, |x| x.price);
    let (mut gains, mut losses) = (0, 0);
    for l in &s.household.accounts[0].lots {
        if l.quantity * price(&l.symbol) > l.basis {
            gains += 1;
        } else {
            losses += 1;
        }
    }
    assert!(gains >= 4 && losses >= 4, "{gains} gains, {losses} losses");

    let z = Scenario::demo_zero_fee();
    assert_eq!(
        z.fee_schedules,
        vec![FeeSchedule::preset(FeePreset::ZeroCommission)]
    );
    assert_eq!(z.household.accounts.len(), 3);
    assert_eq!(
        z.fee_schedule_of("joint").map(|f| f.id.as_str()),
        Some("zero_commission")
    );
    assert_eq!(z.securities, s.securities);
    assert_ne!(z.hash_hex(), s.hash_hex());
}

#[test]
fn json_round_trip() {
    let s = Scenario::demo();
    let back = Scenario::from_json(&s.to_json_pretty()).unwrap();
    assert_eq!(back, s);
    // Saved by an editor that opens the file with a byte-order mark.
    let back = Scenario::from_json(&format!("\u{feff}{}", s.to_json_pretty())).unwrap();
    assert_eq!(back, s);
    let back = Scenario::from_json(&s.canonical_json()).unwrap();
    assert_eq!(back, s);
}

#[test]
fn a_file_reads_as_the_page_reads_it() {
    // Spaces around a symbol are trimmed by validation; the scenario returned is the
    // validated one, so the restriction holds (it was silently ignored before).
    let mut v: serde_json::Value =
        serde_json::from_str(&Scenario::demo().canonical_json()).unwrap();
    let sym = Scenario::demo().securities[0].symbol.clone();
    v["target"]["restrictions"]["do_not_buy"] = serde_json::json!([format!(" {sym} ")]);
    v["name"] = serde_json::json!("  Spaced  ");
    let s = Scenario::from_json(&v.to_string()).unwrap();
    assert_eq!(s.target.restrictions.do_not_buy, vec![sym]);
    assert_eq!(s, s.to_form().validate().unwrap());
}

#[test]
fn form_round_trip_is_exact() {
    let s = Scenario::demo();
    let form = s.to_form();
    assert_eq!(form.validate().unwrap(), s);
    // Through local storage (JSON) and back.
    let text = serde_json::to_string(&form).unwrap();
    let back: ScenarioForm = serde_json::from_str(&text).unwrap();
    assert_eq!(back, form);
}

#[test]
fn half_typed_form_survives_storage() {
    let mut f = demo_form();
    f.securities[0].price = "33".into(); // mid-typing
    f.household.accounts[0].lots[0].acquired = "2015-0".into();
    f.market.shocks.kind = None;
    f.policies[0].tlh = Toggle {
        enabled: false,
        fields: form::TlhForm {
            loss_threshold_usd: "25".into(),
            ..Default::default()
        },
    };
    f.household.accounts.push(form::AccountForm::default());
    let back: ScenarioForm = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
    assert_eq!(back, f);
    // A partial blob (older or truncated) loads with defaults.
    let partial: ScenarioForm =
        serde_json::from_str(r#"{"name":"x","market":{"paths":"10"}}"#).unwrap();
    assert_eq!(partial.market.paths, "10");
    assert!(partial.validate().is_err());
}

#[test]
fn future_schema_is_rejected() {
    let mut v: serde_json::Value =
        serde_json::from_str(&Scenario::demo().to_json_pretty()).unwrap();
    v["schema_version"] = serde_json::json!(3);
    let e = Scenario::from_json(&v.to_string()).unwrap_err();
    assert_eq!(
        e,
        ScenarioError::TooNew {
            found: 3,
            supported: 1
        }
    );
    assert_eq!(
        e.to_string(),
        "this file was written by a newer Tollbooth (schema 3); this version reads up to 1"
    );
}

#[test]
fn not_a_scenario() {
    assert!(matches!(
        Scenario::from_json("[1, 2]"),
        Err(ScenarioError::NotAScenario { .. })
    ));
    assert!(matches!(
        Scenario::from_json(r#"{"name": "x"}"#),
        Err(ScenarioError::NotAScenario { .. })
    ));
    let e = Scenario::from_json("{\n  \"schema_version\": 1,\n  oops").unwrap_err();
    assert!(matches!(e, ScenarioError::Syntax { line: 3, .. }), "{e:?}");
}

#[test]
fn missing_and_malformed_fields_name_their_path() {
    let base: serde_json::Value = serde_json::from_str(&Scenario::demo().to_json_pretty()).unwrap();

    let mut v = base.clone();
    v["household"]["accounts"][0]["lots"][1]
        .as_object_mut()
        .unwrap()
        .remove("acquired");
    assert_eq!(
        Scenario::from_json(&v.to_string()).unwrap_err(),
        ScenarioError::Field {
            path: "household.accounts[0].lots[1].acquired".into(),
            message: "this field is missing".into()
        }
    );

    let mut v = base.clone();
    v["household"]["accounts"][2]["lots"][0]["acquired"] = serde_json::json!("2026-02-30");
    match Scenario::from_json(&v.to_string()).unwrap_err() {
        ScenarioError::Field { path, message } => {
            assert_eq!(path, "household.accounts[2].lots[0].acquired");
            assert!(message.contains("not a date"), "{message}");
        }
        e => panic!("{e:?}"),
    }

    // A field no scenario has (a misspelling) refuses the file, naming it.
    let mut v = base.clone();
    v["household"]["accounts"][0]["lots"][0]["qty"] = serde_json::json!(100);
    assert_eq!(
        Scenario::from_json(&v.to_string()).unwrap_err(),
        ScenarioError::Field {
            path: "household.accounts[0].lots[0].qty".into(),
            message: "no scenario has this field (misspelled?)".into()
        }
    );
    // Also inside the internally tagged enums (a cash flow's schedule, the shocks).
    let mut v = base.clone();
    v["cash_flows"][0]["schedule"]["end_date"] = serde_json::json!("2027-03-01");
    match Scenario::from_json(&v.to_string()).unwrap_err() {
        ScenarioError::Field { path, message } => {
            assert_eq!(path, "cash_flows[0].schedule");
            assert!(message.contains("unknown field `end_date`"), "{message}");
        }
        e => panic!("{e:?}"),
    }
    let mut v = base.clone();
    v["market"]["shocks"]["dof_typo"] = serde_json::json!(5);
    assert!(matches!(
        Scenario::from_json(&v.to_string()).unwrap_err(),
        ScenarioError::Field { path, .. } if path == "market.shocks"
    ));
    let mut v = base.clone();
    v["tax"]["ltcg"] = serde_json::json!(0.15);
    assert!(matches!(
        Scenario::from_json(&v.to_string()).unwrap_err(),
        ScenarioError::Field { path, .. } if path == "tax.ltcg"
    ));

    let mut v = base.clone();
    v["securities"][3]["price"] = serde_json::json!("cheap");
    assert!(matches!(
        Scenario::from_json(&v.to_string()).unwrap_err(),
        ScenarioError::Field { path, .. } if path == "securities[3].price"
    ));

    // Well-formed but invalid: the form's checks, with the same paths.
    let mut v = base;
    v["securities"][3]["price"] = serde_json::json!(-5.0);
    match Scenario::from_json(&v.to_string()).unwrap_err() {
        ScenarioError::Invalid(errs) => {
            assert_eq!(errs[0].path, "securities[3].price");
            assert_eq!(errs[0].message, "must be greater than 0");
        }
        e => panic!("{e:?}"),
    }
}

#[test]
fn schema_0_is_migrated() {
    let demo = Scenario::demo();
    let mut v: serde_json::Value = serde_json::from_str(&demo.to_json_pretty()).unwrap();
    let obj = v.as_object_mut().unwrap();
    obj.insert("schema_version".into(), serde_json::json!(0));
    let b = obj.remove("baseline").unwrap();
    obj.insert("baseline_policy".into(), b);
    obj["market"]
        .as_object_mut()
        .unwrap()
        .remove("partner_correlation");
    let s = Scenario::from_json(&v.to_string()).unwrap();
    assert_eq!(s, demo);
    assert_eq!(s.hash_hex(), demo.hash_hex());
}

#[test]
fn demo_hash_is_pinned() {
    let s = Scenario::demo();
    let h = s.hash_hex();
    assert_eq!(h.len(), 16);
    assert_eq!(h, Scenario::demo().hash_hex(), "stable within a run");
    assert_eq!(
        h,
        s.to_form().validate().unwrap().hash_hex(),
        "form round trip"
    );
    assert_eq!(h, DEMO_HASH, "the demo's hash changed (see DEMO_HASH)");
    let mut t = s.clone();
    t.securities[0].price += 0.01;
    assert_ne!(t.hash_hex(), h);
}

#[test]
fn fnv_reference_values() {
    // Published FNV-1a 64 test vectors.
    assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
}

// ---------------------------------------------------------------------------------------
// Validation: one test per class of bad input, asserting exact paths.
// ---------------------------------------------------------------------------------------

#[test]
fn bad_quantities() {
    let p = "household.accounts[0].lots[1].quantity";
    assert_eq!(
        only_error(p, |f| f.household.accounts[0].lots[1].quantity =
            "-3".into()),
        "must be greater than 0"
    );
    only_error(p, |f| f.household.accounts[0].lots[1].quantity = "0".into());
    only_error(p, |f| f.household.accounts[0].lots[1].quantity = "".into());
    // SCHZ does not allow fractional shares.
    let msg = only_error("household.accounts[1].lots[0].quantity", |f| {
        f.household.accounts[1].lots[0].symbol = "SCHZ".into();
        f.household.accounts[1].lots[0].quantity = "10.5".into();
    });
    assert!(msg.contains("fractional"), "{msg}");
}

#[test]
fn bad_prices_and_numbers() {
    for bad in ["abc", "NaN", "inf", "-1", "0", "1,5", "12,34", "  "] {
        only_error("securities[2].price", |f| {
            f.securities[2].price = bad.into()
        });
    }
    // Surrounding spaces and exponents are fine.
    let mut f = demo_form();
    f.securities[2].price = " 2.61e1 ".into();
    assert_eq!(f.validate().unwrap().securities[2].price, 26.1);
    // Dollars as statements print them: a `$` and thousands separators.
    f.securities[2].price = "$1,000.50".into();
    assert_eq!(f.validate().unwrap().securities[2].price, 1000.5);
    f.household.accounts[0].cash = "8,000".into();
    assert_eq!(f.validate().unwrap().household.accounts[0].cash, 8000.0);
    only_error("securities[2].half_spread_bps", |f| {
        f.securities[2].half_spread_bps = "-0.1".into()
    });
    only_error("household.accounts[2].cash", |f| {
        f.household.accounts[2].cash = "-1".into()
    });
}

#[test]
fn bad_dates() {
    let p = "household.accounts[2].lots[3].acquired";
    let msg = only_error(p, |f| {
        f.household.accounts[2].lots[3].acquired = "2026-02-30".into()
    });
    assert!(msg.contains("that month has no such day"), "{msg}");
    let msg = only_error(p, |f| {
        f.household.accounts[2].lots[3].acquired = "30/02/2026".into()
    });
    assert!(msg.contains("YYYY-MM-DD"), "{msg}");
    let msg = only_error(p, |f| {
        f.household.accounts[2].lots[3].acquired = "2026-11-21".into()
    });
    assert!(msg.contains("after the scenario date"), "{msg}");
    only_error("as_of", |f| f.as_of = "yesterday".into());
    only_error("regulatory.sec[1].effective", |f| {
        f.regulatory.sec[1].effective = "2024/05/22".into()
    });
    only_error("cash_flows[0].schedule.start", |f| {
        f.cash_flows[0].schedule.start = "".into()
    });
    only_error("cash_flows[0].schedule.end", |f| {
        f.cash_flows[0].schedule.end = "2026-01-01".into()
    });
    // A one-time flow on or before the scenario date would never happen: it is refused.
    let msg = only_error("cash_flows[0].schedule.date", |f| {
        f.cash_flows[0].schedule.kind = Some(form::ScheduleKind::Once);
        f.cash_flows[0].schedule.date = f.as_of.clone();
    });
    assert!(msg.contains("on or before the scenario date"), "{msg}");
    let mut f = demo_form();
    f.cash_flows[0].schedule.kind = Some(form::ScheduleKind::Once);
    f.cash_flows[0].schedule.date = "2027-03-01".into();
    assert!(f.validate().is_ok());
}

#[test]
fn married_filing_separately_caps_the_ordinary_offset() {
    let msg = only_error("tax.ordinary_offset_cap", |f| {
        f.tax.filing_status = Some(FilingStatus::MarriedFilingSeparately);
    });
    assert!(msg.contains("1500") && msg.contains("1211"), "{msg}");
    let mut f = demo_form();
    f.tax.filing_status = Some(FilingStatus::MarriedFilingSeparately);
    f.tax.ordinary_offset_cap = "1500".into();
    assert_eq!(f.validate().unwrap().tax.ordinary_offset_cap, 1500.0);
}

#[test]
fn no_filing_status_offsets_more_than_3000() {
    let msg = only_error("tax.ordinary_offset_cap", |f| {
        f.tax.filing_status = Some(FilingStatus::Single);
        f.tax.ordinary_offset_cap = "50000".into();
    });
    assert!(msg.contains("3000") && msg.contains("1211"), "{msg}");
    let mut f = demo_form();
    f.tax.ordinary_offset_cap = "2000".into();
    assert_eq!(f.validate().unwrap().tax.ordinary_offset_cap, 2000.0);
}

#[test]
fn combined_long_term_rates_must_stay_below_one() {
    let msg = only_error("tax.ltcg_rate", |f| {
        f.tax.ordinary_rate = "0".into();
        f.tax.ltcg_rate = "0.2".into();
        f.tax.state_rate = "0.8".into();
        f.tax.niit = true;
    });
    assert!(msg.contains("below 1"), "{msg}");
}

#[test]
fn unknown_references() {
    let msg = only_error("household.accounts[0].lots[4].symbol", |f| {
        f.household.accounts[0].lots[4].symbol = "QQQ".into()
    });
    assert_eq!(msg, "unknown security `QQQ`: add it under securities first");
    only_error("cash_flows[1].account", |f| {
        f.cash_flows[1].account = "gone".into()
    });
    only_error("household.accounts[1].fee_schedule", |f| {
        f.household.accounts[1].fee_schedule = "nope".into()
    });
    only_error("household.accounts[2].owner", |f| {
        f.household.accounts[2].owner = "pat".into()
    });
    only_error("target.classes[3].primary", |f| {
        f.target.classes[3].primary = "XYZ".into()
    });
    // VTI implements us_equity, not emerging.
    only_error("target.classes[3].alternates[1]", |f| {
        f.target.classes[3].alternates[1] = "VTI".into()
    });
    only_error("target.min_cash[2].account", |f| {
        f.target.min_cash[2].account = "x".into()
    });
    only_error("target.restrictions.do_not_buy[0]", |f| {
        f.target.restrictions.do_not_buy = vec!["ZZZ".into()]
    });
    only_error("securities[5].asset_class", |f| {
        f.securities[5].asset_class = "crypto".into()
    });
    only_error("securities[0].partners[1]", |f| {
        f.securities[0].partners[1] = "NOPE".into()
    });
    only_error("market.idiosyncratic_vol[4].symbol", |f| {
        f.market.idiosyncratic_vol[4].symbol = "NOPE".into()
    });
}

/// A partner or an alternate listed twice, a primary listed as its own alternate and an
/// expense ratio typed as a percentage are refused where they are.
#[test]
fn lists_hold_each_name_once_and_expense_ratios_are_fractions() {
    let msg = only_error("securities[0].partners[1]", |f| {
        f.securities[0].partners[1] = f.securities[0].partners[0].clone()
    });
    assert!(msg.contains("listed twice"), "{msg}");
    let msg = only_error("target.classes[0].alternates[0]", |f| {
        f.target.classes[0].alternates = vec![f.target.classes[0].primary.clone()]
    });
    assert!(msg.contains("the class's primary"), "{msg}");
    let msg = only_error("securities[2].expense_ratio", |f| {
        f.securities[2].expense_ratio = "0.9".into()
    });
    assert!(
        msg.contains("90% a year") && msg.contains("0.0003"),
        "{msg}"
    );
}

#[test]
fn partners_must_be_other_groups_of_the_same_class() {
    // SCHZ is in AGG's group: not a partner of AGG.
    let msg = only_error("securities[13].partners[0]", |f| {
        f.securities[13].partners[0] = "SCHZ".into()
    });
    assert!(msg.contains("same substantially-identical group"), "{msg}");
    let msg = only_error("securities[13].partners[0]", |f| {
        f.securities[13].partners[0] = "VTI".into()
    });
    assert!(msg.contains("same asset class"), "{msg}");
    only_error("securities[13].partners[0]", |f| {
        f.securities[13].partners[0] = "AGG".into()
    });
}

#[test]
fn duplicate_ids() {
    let msg = only_error("household.accounts[2].lots[0].id", |f| {
        f.household.accounts[2].lots[0].id = "L001".into()
    });
    assert_eq!(
        msg,
        "duplicate lot id `L001` (already used at household.accounts[0].lots[0].id)"
    );
    only_error("household.accounts[1].id", |f| {
        f.household.accounts[1].id = "joint".into();
        // Keep the references valid: only the duplicate is wrong.
        f.target.min_cash.remove(1);
    });
    only_error("securities[1].symbol", |f| {
        f.securities[1].symbol = "VTI".into();
        f.securities[1].partners = vec!["SCHB".into()];
        f.securities[2].partners = vec!["VTI".into()];
        f.securities[0].partners = vec!["SCHB".into()];
        f.household.accounts[0].lots[4].symbol = "VTI".into();
        f.target.classes[0].alternates = vec!["SCHB".into()];
        f.market.idiosyncratic_vol.remove(1);
    });
    only_error("household.members[1].id", |f| {
        f.household.members[1].id = "alex".into();
        f.household.accounts[2].owner = "alex".into();
    });
    only_error("fee_schedules[1].id", |f| {
        let copy = f.fee_schedules[0].clone();
        f.fee_schedules.push(copy);
    });
    only_error("regulatory.taf[3].effective", |f| {
        f.regulatory.taf[3].effective = "2026-01-01".into()
    });
}

#[test]
fn weights_must_sum_to_one() {
    let msg = only_error("target.classes", |f| {
        f.target.classes[0].weight = "0.35".into()
    });
    assert!(msg.contains("add up to 0.99 (99%)"), "{msg}");
    // No binary noise in the sum: 0.1 + 0.2 is said as 0.3, not 0.30000000000000004.
    let mut f = demo_form();
    let n = f.target.classes.len();
    for (i, c) in f.target.classes.iter_mut().enumerate() {
        c.weight = if i == 0 {
            "0.1".into()
        } else if i == 1 {
            "0.2".into()
        } else {
            "0".into()
        };
    }
    assert!(n >= 2);
    let errs = f.validate().err().unwrap_or_default();
    let e = errs
        .iter()
        .find(|e| e.path == "target.classes")
        .expect("a sum error");
    assert!(e.message.contains("add up to 0.3 (30%)"), "{}", e.message);
    // Within 1e-6 is accepted.
    let mut f = demo_form();
    f.target.classes[0].weight = "0.3600005".into();
    assert!(f.validate().is_ok());
    only_error("target.classes[0].weight", |f| {
        f.target.classes[0].weight = "1.2".into()
    });
}

#[test]
fn bands_must_not_be_negative() {
    only_error("target.default_band.width", |f| {
        f.target.default_band.width = "-0.01".into()
    });
    only_error("target.classes[6].band.width", |f| {
        f.target.classes[6].band.fields.width = "-1".into()
    });
    // A disabled override is not checked and keeps its text.
    let mut f = demo_form();
    f.target.classes[6].band.enabled = false;
    f.target.classes[6].band.fields.width = "-1".into();
    assert_eq!(f.validate().unwrap().target.classes[6].band, None);
    only_error("policies[0].threshold.band.width", |f| {
        f.policies[0].threshold.enabled = true;
        f.policies[0].threshold.fields = form::ThresholdForm {
            band: form::Toggle {
                enabled: true,
                fields: form::BandForm {
                    kind: Some(policy::BandKind::Relative),
                    width: "-0.2".into(),
                },
            },
            check: Some(policy::Frequency::Daily),
            trade_to: "0".into(),
        };
    });
    // A threshold rule without its own band (the target model's bands) is not checked
    // for one, and survives the form both ways.
    let mut f = demo_form();
    f.policies[0].threshold.enabled = true;
    f.policies[0].threshold.fields.check = Some(policy::Frequency::Weekly);
    f.policies[0].threshold.fields.trade_to = "0.5".into();
    f.policies[0].threshold.fields.band.fields.width = "-1".into();
    let s = f.validate().unwrap();
    let rule = s.policies[0].threshold.expect("threshold rule");
    assert_eq!(rule.band, None);
    assert_eq!(s.to_form().validate().unwrap(), s);
    let json = s.to_json_pretty();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        v["policies"][0]["threshold"].get("band").is_none(),
        "{json}"
    );
    assert_eq!(Scenario::from_json(&json).unwrap(), s);
    // A form saved before the switch (a band without `enabled`) keeps its band in force; a
    // switched-off band stays off.
    let saved =
        r#"{"band": {"kind": "relative", "width": "0.2"}, "check": "daily", "trade_to": "0"}"#;
    let t: form::ThresholdForm = serde_json::from_str(saved).unwrap();
    assert!(t.band.enabled);
    assert_eq!(t.band.fields.width, "0.2");
    let off = r#"{"band": {"enabled": false, "kind": "relative", "width": "0.2"}}"#;
    let t: form::ThresholdForm = serde_json::from_str(off).unwrap();
    assert!(!t.band.enabled);
    let t: form::ThresholdForm = serde_json::from_str("{}").unwrap();
    assert!(
        !t.band.enabled,
        "a new rule starts on the target model's bands"
    );
    // Switching the rule on in a policy gives a valid rule at once.
    let mut f = demo_form();
    f.policies[0].threshold.enabled = true;
    let rule = f.validate().unwrap().policies[0].threshold.unwrap();
    assert_eq!(
        (rule.band, rule.check, rule.trade_to),
        (None, policy::Frequency::Daily, 0.0)
    );
}

#[test]
fn the_long_term_rate_is_a_federal_bracket() {
    for ok in ["0", "0.15", "0.2", "0.20"] {
        let mut f = demo_form();
        f.tax.ltcg_rate = ok.into();
        assert!(f.validate().is_ok(), "{ok}");
    }
    let msg = only_error("tax.ltcg_rate", |f| f.tax.ltcg_rate = "0.238".into());
    assert!(
        msg.contains("0, 0.15 or 0.20") && msg.contains("NIIT"),
        "{msg}"
    );
}

#[test]
fn rates_must_be_fractions() {
    let msg = only_error("tax.ordinary_rate", |f| f.tax.ordinary_rate = "32".into());
    assert!(msg.contains("0.24 means 24%"), "{msg}");
    only_error("tax.state_rate", |f| f.tax.state_rate = "-0.01".into());
    // Each rate is a fraction, but together they exceed 100%: the tax module's check.
    let msg = only_error("tax.ordinary_rate", |f| {
        f.tax.ordinary_rate = "0.9".into();
        f.tax.state_rate = "0.2".into();
    });
    assert!(msg.contains("combined rate"), "{msg}");
    only_error("securities[4].expense_ratio", |f| {
        f.securities[4].expense_ratio = "1.5".into()
    });
    only_error("market.classes[2].dividend_yield", |f| {
        f.market.classes[2].dividend_yield = "3".into()
    });
    only_error("policies[1].tlh.loss_threshold_pct", |f| {
        f.policies[1].tlh.fields.loss_threshold_pct = "5".into()
    });
    only_error("market.partner_correlation", |f| {
        f.market.partner_correlation = "1.01".into()
    });
}

#[test]
fn correlation_matrix_checks() {
    let msg = only_error("market.correlation[0][1]", |f| {
        f.market.correlation[0][1] = "0.5".into()
    });
    assert!(msg.contains("symmetric"), "{msg}");
    only_error("market.correlation[2][2]", |f| {
        f.market.correlation[2][2] = "0.9".into()
    });
    only_error("market.correlation[1][4]", |f| {
        f.market.correlation[1][4] = "1.5".into()
    });
    only_error("market.correlation[3]", |f| {
        f.market.correlation[3].pop();
    });
    only_error("market.correlation", |f| {
        f.market.correlation.pop();
    });
    // Consistent pairs that are jointly impossible: not PSD.
    let msg = only_error("market.correlation", |f| {
        for (i, j, x) in [(0, 1, "0.95"), (0, 4, "0.95"), (1, 4, "-0.95")] {
            f.market.correlation[i][j] = x.into();
            f.market.correlation[j][i] = x.into();
        }
    });
    assert!(msg.contains("not positive semi-definite"), "{msg}");
}

#[test]
fn policy_rules() {
    let msg = only_error("policies", |f| f.policies.truncate(1));
    assert_eq!(msg, "compare 2 to 8 policies; there are 1");
    only_error("policies", |f| {
        let p = f.policies[2].clone();
        for i in 0..6 {
            let mut q = p.clone();
            q.name = format!("Copy {i}");
            f.policies.push(q);
        }
    });
    only_error("policies[2].name", |f| {
        f.policies[2].name = "Quarterly calendar".into()
    });
    only_error("baseline", |f| f.baseline = "Nothing".into());
    only_error("policies[1].lot_method", |f| {
        f.policies[1].lot_method = None
    });
    only_error("policies[2].optimizer.check", |f| {
        f.policies[2].optimizer.fields.check = None
    });
    only_error("policies[0].tactical.information_coefficient", |f| {
        f.policies[0].tactical.enabled = true;
        f.policies[0].tactical.fields.information_coefficient = "2".into();
    });
    // Daryanani defaults validate as typed.
    let mut f = demo_form();
    f.policies[0].opportunistic.enabled = true;
    let s = f.validate().unwrap();
    assert_eq!(
        s.policies[0].opportunistic,
        Some(policy::OpportunisticRule::default())
    );
}

#[test]
fn monte_carlo_settings() {
    only_error("market.paths", |f| f.market.paths = "0".into());
    only_error("market.horizon_years", |f| {
        f.market.horizon_years = "0".into()
    });
    only_error("market.horizon_years", |f| {
        f.market.horizon_years = "2.5".into()
    });
    only_error("market.seed", |f| f.market.seed = "-1".into());
    // Too large for the field is out of range, not "not a whole number".
    let m = only_error("market.seed", |f| {
        f.market.seed = "18446744073709551616".into()
    });
    assert_eq!(m, format!("must be between 0 and {}", u64::MAX));
    only_error("market.shocks.dof", |f| f.market.shocks.dof = "2".into());
    only_error("market.shocks.kind", |f| f.market.shocks.kind = None);
    let mut f = demo_form();
    f.market.shocks.kind = Some(ShockKind::Normal);
    f.market.shocks.dof = "junk".into(); // ignored for normal shocks
    assert_eq!(f.validate().unwrap().market.shocks, market::Shocks::Normal);
}

#[test]
fn accounts_and_fee_schedules() {
    let msg = only_error("household.accounts[1].joint", |f| {
        f.household.accounts[1].joint = true
    });
    assert_eq!(
        msg,
        "only taxable accounts can be joint, not a traditional IRA"
    );
    only_error("fee_schedules[0].rows.etf.maximum", |f| {
        f.fee_schedules[0].rows.etf.minimum = "5".into();
        f.fee_schedules[0].rows.etf.maximum = "4".into();
    });
    only_error("fee_schedules[0].rows.stock.flat", |f| {
        f.fee_schedules[0].rows.stock.flat = "-3.10".into()
    });
    only_error("fee_schedules[0].impact.coefficient", |f| {
        f.fee_schedules[0].impact.enabled = true;
        f.fee_schedules[0].impact.fields.coefficient = "".into();
    });
    only_error("household.accounts[0].kind", |f| {
        f.household.accounts[0].kind = None
    });
}

#[test]
fn collects_every_error_at_once() {
    let errs = errors_after(|f| {
        f.securities[0].price = "x".into();
        f.tax.ltcg_rate = "15".into();
        f.market.paths = "".into();
    });
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["market.paths", "securities[0].price", "tax.ltcg_rate"]
    );
}

#[test]
fn defaults_form_reports_only_what_the_user_must_add() {
    let errs = ScenarioForm::with_defaults().validate().unwrap_err();
    let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "as_of",
            "household.members",
            "household.accounts",
            "target.classes",
            "policies",
            "baseline"
        ]
    );
}

mod fuzz {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever is typed into a handful of fields, validation returns (no panic), and
        /// a form that validates round-trips exactly.
        #[test]
        fn any_text_validates_or_explains(
            texts in proptest::collection::vec("[-+0-9.eE,a-z ]{0,8}", 6),
        ) {
            let mut f = demo_form();
            f.securities[1].price = texts[0].clone();
            f.household.accounts[0].lots[2].quantity = texts[1].clone();
            f.household.accounts[1].lots[0].acquired = texts[2].clone();
            f.target.classes[4].weight = texts[3].clone();
            f.market.correlation[0][2] = texts[4].clone();
            f.market.correlation[2][0] = texts[4].clone();
            f.tax.state_rate = texts[5].clone();
            match f.validate() {
                Ok(s) => prop_assert_eq!(s.to_form().validate().unwrap(), s),
                Err(errs) => {
                    prop_assert!(!errs.is_empty());
                    for e in errs {
                        prop_assert!(!e.path.is_empty() && !e.message.is_empty());
                    }
                }
            }
        }
    }
}

#[test]
fn a_securitys_daily_volume_is_optional_positive_and_survives_the_form() {
    let mut s = Scenario::demo();
    s.securities[0].daily_dollar_volume = Some(2.5e9);
    assert_eq!(s.to_form().validate().unwrap(), s);
    assert_eq!(Scenario::from_json(&s.to_json_pretty()).unwrap(), s);
    let msg = only_error("securities[0].daily_dollar_volume", |f| {
        f.securities[0].daily_dollar_volume = "0".into()
    });
    assert!(msg.contains("greater than 0"), "{msg}");
}

#[test]
fn the_horizon_must_end_inside_the_calendar() {
    let msg = only_error("market.horizon_years", |f| {
        f.as_of = "9990-01-05".into();
        f.cash_flows.clear();
        f.market.horizon_years = "9".into();
    });
    assert!(msg.contains("after 9999"), "{msg}");
    let mut f = demo_form();
    f.as_of = "9990-01-05".into();
    f.cash_flows.clear();
    f.market.horizon_years = "8".into();
    assert!(f.validate().is_ok());
}

/// Every market parameter the form accepts, the simulation accepts: the form's bounds are
/// the market model's, each end checked on both sides.
#[test]
fn the_forms_market_bounds_are_the_models() {
    let accepted = |edit: &dyn Fn(&mut ScenarioForm)| {
        let mut f = demo_form();
        edit(&mut f);
        let s = f.validate().expect("the form accepts it");
        let options = crate::simulate::SimOptions {
            paths: Some(1),
            years: Some(1),
            ..Default::default()
        };
        crate::simulate::Simulation::new(&s, &options).expect("the simulation accepts it");
    };
    accepted(&|f| f.market.classes[0].expected_return = "-0.99".into());
    only_error("market.classes[0].expected_return", |f| {
        f.market.classes[0].expected_return = "-1".into()
    });
    accepted(&|f| f.market.classes[0].volatility = "5".into());
    let msg = only_error("market.classes[0].volatility", |f| {
        f.market.classes[0].volatility = "5.01".into()
    });
    assert_eq!(msg, "must be at least 0 and at most 5");
    accepted(&|f| f.market.classes[0].dividend_yield = "0.99".into());
    let msg = only_error("market.classes[0].dividend_yield", |f| {
        f.market.classes[0].dividend_yield = "1".into()
    });
    assert_eq!(msg, "must be at least 0 and below 1");
    only_error("securities[0].dividend_yield", |f| {
        f.securities[0].dividend_yield = "1".into()
    });
    only_error("securities[0].expense_ratio", |f| {
        f.securities[0].expense_ratio = "1".into()
    });
    accepted(&|f| f.market.partner_correlation = "0".into());
    only_error("market.partner_correlation", |f| {
        f.market.partner_correlation = "-0.1".into()
    });
    accepted(&|f| f.market.default_idiosyncratic_vol = "5".into());
    only_error("market.default_idiosyncratic_vol", |f| {
        f.market.default_idiosyncratic_vol = "6".into()
    });
    let student = |f: &mut ScenarioForm, dof: &str| {
        f.market.shocks.kind = Some(ShockKind::StudentT);
        f.market.shocks.dof = dof.into();
    };
    accepted(&|f| student(f, "1000000"));
    let msg = only_error("market.shocks.dof", |f| student(f, "1000001"));
    assert_eq!(msg, "must be at least 4 and at most 1000000");
    only_error("market.shocks.dof", |f| student(f, "3.9"));
    accepted(&|f| student(f, "4"));
    // Cash cannot yield −100 % (it would vanish on the first day).
    let msg = only_error("market.cash_yield", |f| f.market.cash_yield = "-1".into());
    assert_eq!(msg, "must be above -1 and at most 1");
}

/// The simulation sells from the scenario date on, so each regulatory table needs a rate
/// in force then; without one the form says which table, not the run.
#[test]
fn regulatory_tables_must_cover_the_scenario_date() {
    // Only the TAF rows dated after the scenario date are left.
    let as_of = demo_form().as_of;
    let msg = only_error("regulatory.taf", |f| {
        f.regulatory
            .taf
            .retain(|r| r.effective.as_str() > as_of.as_str());
    });
    assert!(
        msg.contains("starts on 2027-01-01") && msg.contains(&as_of),
        "{msg}"
    );
    let msg = only_error("regulatory.sec", |f| f.regulatory.sec.clear());
    assert!(msg.contains("SEC Section 31 table is empty"), "{msg}");
    // With regulatory fees off on every schedule, no table is needed.
    let mut f = demo_form();
    f.regulatory.sec.clear();
    f.regulatory.taf.clear();
    for s in &mut f.fee_schedules {
        s.charge_regulatory = false;
    }
    assert!(f.validate().is_ok());
}

/// A form beyond the engine's limits is refused up front, one error per list, and a
/// number too large to add up safely is refused where it is typed.
#[test]
fn sizes_and_magnitudes_are_bounded() {
    use super::form::{MAX_ACCOUNTS, MAX_CASH_FLOWS, MAX_LOTS, MAX_SECURITIES};
    let errs = errors_after(|f| {
        let s = f.securities[0].clone();
        f.securities = vec![s; MAX_SECURITIES + 1];
        let a = f.household.accounts[0].clone();
        f.household.accounts = vec![a; MAX_ACCOUNTS + 1];
        let l = f.household.accounts[0].lots[0].clone();
        f.household.accounts[0].lots = vec![l; MAX_LOTS];
        let c = f.cash_flows[0].clone();
        f.cash_flows = vec![c; MAX_CASH_FLOWS + 1];
    });
    let got: Vec<(&str, &str)> = errs
        .iter()
        .map(|e| (e.path.as_str(), e.message.as_str()))
        .collect();
    let lots = MAX_LOTS + MAX_ACCOUNTS * demo_form().household.accounts[0].lots.len();
    let lots = format!("too many tax lots: {lots}; Tollbooth models at most 100000");
    assert_eq!(
        got,
        [
            (
                "securities",
                "too many securities: 1001; Tollbooth models at most 1000"
            ),
            (
                "household.accounts",
                "too many accounts: 101; Tollbooth models at most 100"
            ),
            ("household.accounts", lots.as_str()),
            (
                "cash_flows",
                "too many cash flows: 1001; Tollbooth models at most 1000"
            ),
        ]
    );
    // At the limits the form is checked as usual.
    let mut f = demo_form();
    while f.market.classes.len() < super::form::MAX_CLASSES {
        let mut c = f.market.classes[0].clone();
        c.name = format!("class {}", f.market.classes.len());
        f.market.classes.push(c);
    }
    let errs = f
        .validate()
        .expect_err("the correlation matrix is now too small");
    assert!(
        errs.iter().all(|e| !e.message.contains("too many")),
        "{errs:#?}"
    );
    let msg = only_error("household.accounts[0].cash", |f| {
        f.household.accounts[0].cash = "1e16".into()
    });
    assert!(msg.contains("too large"), "{msg}");
    only_error("household.accounts[0].lots[0].quantity", |f| {
        f.household.accounts[0].lots[0].quantity = "-2e15".into()
    });
    let mut f = demo_form();
    f.household.accounts[0].cash = "1e15".into();
    assert!(f.validate().is_ok());
}

#[test]
fn a_setting_listed_twice_and_a_quantity_below_the_ledgers_are_refused() {
    let msg = only_error("target.min_cash[1].account", |f| {
        f.target.min_cash[1].account = f.target.min_cash[0].account.clone();
    });
    assert!(msg.starts_with("duplicate account"), "{msg}");
    let msg = only_error("market.idiosyncratic_vol[1].symbol", |f| {
        f.market.idiosyncratic_vol = vec![
            SecurityVolForm {
                symbol: "VTI".into(),
                vol: "0.02".into(),
            },
            SecurityVolForm {
                symbol: "VTI".into(),
                vol: "0.05".into(),
            },
        ];
    });
    assert!(msg.starts_with("duplicate security `VTI`"), "{msg}");
    let msg = only_error("household.accounts[0].lots[0].quantity", |f| {
        f.household.accounts[0].lots[0].quantity = "0.0000000001".into();
    });
    assert!(msg.contains("smallest quantity"), "{msg}");
}

#[test]
fn an_invalid_scenario_lists_its_first_ten_problems() {
    let errs: Vec<FieldError> = (0..12)
        .map(|i| FieldError {
            path: format!("securities[{i}].price"),
            message: "must be greater than 0".into(),
        })
        .collect();
    let msg = ScenarioError::Invalid(errs).to_string();
    assert!(
        msg.starts_with("the scenario has 12 problem(s): securities[0].price: must be greater than 0; securities[1].price"),
        "{msg}"
    );
    assert!(
        msg.contains("securities[9].price") && !msg.contains("securities[10]"),
        "{msg}"
    );
    assert!(msg.ends_with("; and 2 more"), "{msg}");
}

#[test]
fn a_long_number_is_quoted_short() {
    let msg = only_error("household.accounts[0].lots[0].quantity", |f| {
        f.household.accounts[0].lots[0].quantity = format!("{}", 1e300);
    });
    assert_eq!(
        msg,
        "`1e300` is too large: numbers here must be within ±1,000,000,000,000,000"
    );
    let msg = only_error("household.accounts[0].lots[0].quantity", |f| {
        f.household.accounts[0].lots[0].quantity = "12x".repeat(1000);
    });
    assert!(
        msg.starts_with("`12x12x12x12x12x12x12x12x…` is not a number"),
        "{msg}"
    );
}
