//! Edits of the form that the editors' buttons make: adding and removing rows, unique
//! ids and names, fee presets, policy housekeeping, and the names shown in presentation
//! mode. Plain functions on [`ScenarioForm`], tested natively.

use tollbooth_engine::fees::{FeePreset, FeeSchedule};
use tollbooth_engine::scenario::form::{
    fee_schedule_form, AccountForm, CalendarForm, CashFlowForm, ClassTargetForm, LotForm,
    MemberForm, MinCashForm, PolicyForm, ScheduleForm, ScheduleKind, SecurityForm, SecurityVolForm,
    Toggle, MAX_POLICIES, MIN_POLICIES,
};
use tollbooth_engine::scenario::policy::Frequency;
use tollbooth_engine::scenario::{Scenario, ScenarioForm};
use tollbooth_engine::types::{AccountKind, LotMethod};

/// The first `prefix{n}` (n = 1, 2, …, zero-padded to `width`) not in `taken`.
fn fresh<'a>(prefix: &str, width: usize, taken: impl Iterator<Item = &'a str> + Clone) -> String {
    (1..)
        .map(|n| format!("{prefix}{n:0width$}"))
        .find(|id| !taken.clone().any(|t| t == id))
        .unwrap_or_default()
}

/// Adds an empty lot to account `a` with a fresh id, dated the scenario date.
pub fn add_lot(f: &mut ScenarioForm, a: usize) {
    let id = {
        let taken = f
            .household
            .accounts
            .iter()
            .flat_map(|a| a.lots.iter().map(|l| l.id.as_str()));
        fresh("L", 3, taken)
    };
    let acquired = f.as_of.clone();
    if let Some(acc) = f.household.accounts.get_mut(a) {
        acc.lots.push(LotForm {
            id,
            acquired,
            ..LotForm::default()
        });
    }
}

/// Removes lot `k` of account `a`.
pub fn remove_lot(f: &mut ScenarioForm, a: usize, k: usize) {
    if let Some(acc) = f.household.accounts.get_mut(a) {
        if k < acc.lots.len() {
            acc.lots.remove(k);
        }
    }
}

/// Adds a taxable account owned by the first member, on the first fee schedule.
pub fn add_account(f: &mut ScenarioForm) {
    let id = fresh(
        "account",
        1,
        f.household.accounts.iter().map(|a| a.id.as_str()),
    );
    let owner = f
        .household
        .members
        .first()
        .map(|m| m.id.clone())
        .unwrap_or_default();
    let fee_schedule = f
        .fee_schedules
        .first()
        .map(|s| s.id.clone())
        .unwrap_or_default();
    f.household.accounts.push(AccountForm {
        name: format!("New account {}", f.household.accounts.len() + 1),
        id,
        kind: Some(AccountKind::Taxable),
        owner,
        joint: false,
        cash: "0".into(),
        fee_schedule,
        lots: Vec::new(),
    });
}

/// Adds a household member.
pub fn add_member(f: &mut ScenarioForm) {
    let id = fresh(
        "member",
        1,
        f.household.members.iter().map(|m| m.id.as_str()),
    );
    f.household.members.push(MemberForm {
        id,
        name: String::new(),
    });
}

/// Adds a security in the first asset class.
pub fn add_security(f: &mut ScenarioForm) {
    let class = f
        .market
        .classes
        .first()
        .map(|c| c.name.clone())
        .unwrap_or_default();
    f.securities.push(SecurityForm {
        asset_class: class,
        security_type: Some(tollbooth_engine::types::SecurityType::Etf),
        half_spread_bps: "1".into(),
        expense_ratio: "0".into(),
        dividend_yield: "0".into(),
        fractional_allowed: true,
        ..SecurityForm::default()
    });
}

/// The asset-location choices offered for a target class: preferred account kinds, most
/// preferred first (kinds not listed take what the listed ones cannot).
pub const LOCATIONS: [&[AccountKind]; 6] = [
    &[],
    &[
        AccountKind::TraditionalIra,
        AccountKind::K401,
        AccountKind::Taxable,
    ],
    &[AccountKind::RothIra, AccountKind::Taxable],
    &[AccountKind::Taxable],
    &[AccountKind::TraditionalIra, AccountKind::RothIra],
    &[AccountKind::TraditionalIra],
];

/// A preference list as a select's value: the kinds' keys, comma-separated.
pub fn location_value(location: &[AccountKind]) -> String {
    location
        .iter()
        .map(|k| crate::fields::key_of(&Some(*k)))
        .collect::<Vec<_>>()
        .join(",")
}

/// A select's value back to the preference list.
pub fn parse_location(value: &str) -> Vec<AccountKind> {
    value
        .split(',')
        .filter_map(crate::fields::from_key::<AccountKind>)
        .collect()
}

/// A preference list in words: "Roth IRA, then taxable".
pub fn location_label(location: &[AccountKind]) -> String {
    if location.is_empty() {
        return "Any account".to_string();
    }
    let words: Vec<String> = location.iter().map(|k| k.to_string()).collect();
    let mut out = words.join(", then ");
    if let Some(first) = out.get(..1) {
        out = first.to_uppercase() + &out[1..];
    }
    out
}

/// The location options of a class: the usual choices, and its own list when it is none
/// of them (a scenario loaded from a file).
pub fn location_options(current: &[AccountKind]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = LOCATIONS
        .iter()
        .map(|l| (location_value(l), location_label(l)))
        .collect();
    if !LOCATIONS.contains(&current) {
        out.push((location_value(current), location_label(current)));
    }
    out
}

/// Removes account `a` with everything that belongs to it alone: its lots, minimum-cash
/// rows and cash flows (a flow left behind would attach, unnoticed, to a later account
/// given the same id).
pub fn remove_account(f: &mut ScenarioForm, a: usize) {
    if a < f.household.accounts.len() {
        let id = f.household.accounts.remove(a).id;
        f.target.min_cash.retain(|m| m.account != id);
        f.cash_flows.retain(|c| c.account != id);
    }
}

/// Whether references to `old` may follow a rename of entry `me` to `new`: neither id is
/// another entry's (while an id typed letter by letter passes through another entry's
/// id, that entry's references must not be taken along).
/// Row `me`'s id (of `ids`) when the references to it follow a rename to `new`
/// ([`references_follow`]).
fn followed(ids: &[&str], me: usize, new: &str) -> Option<String> {
    let old = ids.get(me)?;
    references_follow(ids, me, old, new).then(|| old.to_string())
}

fn references_follow(ids: &[&str], me: usize, old: &str, new: &str) -> bool {
    let other = |id: &str| ids.iter().enumerate().any(|(i, x)| i != me && *x == id);
    // A blank id is no one's: a reference left blank (a class's primary not chosen yet)
    // is not adopted by a row whose id is typed in, nor emptied by one cleared.
    !old.trim().is_empty() && !new.trim().is_empty() && old != new && !other(old) && !other(new)
}

/// Renames account `a`'s id, and in the same edit every reference to it: its
/// minimum-cash rows and cash flows. References stay when the old or the new id is
/// another account's too (they may be that account's).
pub fn rename_account(f: &mut ScenarioForm, a: usize, id: String) {
    let ids: Vec<&str> = f.household.accounts.iter().map(|x| x.id.as_str()).collect();
    if let Some(old) = followed(&ids, a, &id) {
        for m in f.target.min_cash.iter_mut().filter(|m| m.account == old) {
            m.account = id.clone();
        }
        for c in f.cash_flows.iter_mut().filter(|c| c.account == old) {
            c.account = id.clone();
        }
    }
    if let Some(x) = f.household.accounts.get_mut(a) {
        x.id = id;
    }
}

/// Renames member `i`'s id and, in the same edit, the owner of its accounts (as
/// [`rename_account`] does).
pub fn rename_member(f: &mut ScenarioForm, i: usize, id: String) {
    let ids: Vec<&str> = f.household.members.iter().map(|x| x.id.as_str()).collect();
    if let Some(old) = followed(&ids, i, &id) {
        for a in f.household.accounts.iter_mut().filter(|a| a.owner == old) {
            a.owner = id.clone();
        }
    }
    if let Some(x) = f.household.members.get_mut(i) {
        x.id = id;
    }
}

/// Renames fee schedule `i`'s id and, in the same edit, the accounts on it (as
/// [`rename_account`] does).
pub fn rename_fee_schedule(f: &mut ScenarioForm, i: usize, id: String) {
    let ids: Vec<&str> = f.fee_schedules.iter().map(|x| x.id.as_str()).collect();
    if let Some(old) = followed(&ids, i, &id) {
        for a in f
            .household
            .accounts
            .iter_mut()
            .filter(|a| a.fee_schedule == old)
        {
            a.fee_schedule = id.clone();
        }
    }
    if let Some(x) = f.fee_schedules.get_mut(i) {
        x.id = id;
    }
}

/// Renames security `i`'s symbol and, in the same edit, every reference to it: the lots
/// of every account, the TLH partners of the other securities, the target classes' primary
/// and alternate securities, the restrictions and the idiosyncratic-volatility rows (as [`rename_account`] does: references stay when the old
/// or the new symbol is another security's too).
pub fn rename_security(f: &mut ScenarioForm, i: usize, symbol: String) {
    let ids: Vec<&str> = f.securities.iter().map(|x| x.symbol.as_str()).collect();
    if let Some(old) = followed(&ids, i, &symbol) {
        let rename = |x: &mut String| {
            if *x == old {
                x.clone_from(&symbol);
            }
        };
        for a in &mut f.household.accounts {
            a.lots.iter_mut().for_each(|l| rename(&mut l.symbol));
        }
        for s in &mut f.securities {
            s.partners.iter_mut().for_each(rename);
        }
        for c in &mut f.target.classes {
            rename(&mut c.primary);
            c.alternates.iter_mut().for_each(rename);
        }
        let r = &mut f.target.restrictions;
        r.do_not_buy.iter_mut().for_each(rename);
        r.do_not_sell.iter_mut().for_each(rename);
        f.market
            .idiosyncratic_vol
            .iter_mut()
            .for_each(|v| rename(&mut v.symbol));
    }
    if let Some(x) = f.securities.get_mut(i) {
        x.symbol = symbol;
    }
}

/// Removes security `i` and its idiosyncratic-volatility rows (kept only for it). Lots,
/// partners and target references to it stay and are flagged where they can be edited.
pub fn remove_security(f: &mut ScenarioForm, i: usize) {
    if i < f.securities.len() {
        let symbol = f.securities.remove(i).symbol;
        f.market.idiosyncratic_vol.retain(|v| v.symbol != symbol);
    }
}

/// Adds a minimum-cash row for the first account without one (else the first account).
pub fn add_min_cash(f: &mut ScenarioForm) {
    // An account listed twice is refused, so only an account without a row is offered.
    let Some(account) = next_min_cash_account(f) else {
        return;
    };
    f.target.min_cash.push(MinCashForm {
        account,
        amount: "0".into(),
    });
}

/// The first account without a minimum-cash row (`None`: every account has one).
pub fn next_min_cash_account(f: &ScenarioForm) -> Option<String> {
    let taken = |id: &str| f.target.min_cash.iter().any(|m| m.account == id);
    f.household
        .accounts
        .iter()
        .find(|a| !taken(&a.id))
        .map(|a| a.id.clone())
}

/// The first security without an idiosyncratic-volatility row (`None`: every one has).
pub fn next_security_vol(f: &ScenarioForm) -> Option<String> {
    let taken = |s: &str| f.market.idiosyncratic_vol.iter().any(|v| v.symbol == s);
    f.securities
        .iter()
        .find(|x| !taken(&x.symbol))
        .map(|x| x.symbol.clone())
}

/// Adds an idiosyncratic-volatility row for the first security without one, at the
/// default volatility; nothing when every security has one (a security listed twice is
/// refused).
pub fn add_security_vol(f: &mut ScenarioForm) {
    let Some(symbol) = next_security_vol(f) else {
        return;
    };
    f.market.idiosyncratic_vol.push(SecurityVolForm {
        symbol,
        vol: f.market.default_idiosyncratic_vol.clone(),
    });
}

/// Adds a class to the target model.
pub fn add_class_target(f: &mut ScenarioForm) {
    f.target.classes.push(ClassTargetForm {
        weight: "0".into(),
        ..ClassTargetForm::default()
    });
}

/// Adds a fee schedule from a preset, with an id not yet used.
pub fn add_fee_schedule(f: &mut ScenarioForm, preset: FeePreset) {
    let mut form = fee_schedule_form(&FeeSchedule::preset(preset));
    if f.fee_schedules.iter().any(|s| s.id == form.id) {
        let base = format!("{}_", form.id);
        form.id = fresh(&base, 1, f.fee_schedules.iter().map(|s| s.id.as_str()));
    }
    f.fee_schedules.push(form);
}

/// Loads a preset's charges into schedule `i`, keeping its id (accounts refer to it) and
/// its advisory fee (not a trading charge).
pub fn load_fee_preset(f: &mut ScenarioForm, i: usize, preset: FeePreset) {
    if let Some(s) = f.fee_schedules.get_mut(i) {
        let mut form = fee_schedule_form(&FeeSchedule::preset(preset));
        form.id = std::mem::take(&mut s.id);
        form.advisory_fee_bps = std::mem::take(&mut s.advisory_fee_bps);
        *s = form;
    }
}

/// Adds a one-off contribution to the first account on the scenario date.
pub fn add_cash_flow(f: &mut ScenarioForm) {
    let account = f
        .household
        .accounts
        .first()
        .map(|a| a.id.clone())
        .unwrap_or_default();
    // The day after the scenario date: the first day a flow can happen.
    let date = f
        .as_of
        .trim()
        .parse::<tollbooth_engine::date::Date>()
        .map_or_else(|_| f.as_of.clone(), |d| d.add_days(1).to_string());
    f.cash_flows.push(CashFlowForm {
        account,
        amount: "0".into(),
        schedule: ScheduleForm {
            kind: Some(ScheduleKind::Once),
            date,
            frequency: Some(Frequency::Monthly),
            ..ScheduleForm::default()
        },
    });
}

/// A policy name not yet used: `base`, else `base (2)`, `base (3)`, …
fn fresh_policy_name(f: &ScenarioForm, base: &str) -> String {
    let taken = |n: &str| f.policies.iter().any(|p| p.name == n);
    if !taken(base) {
        return base.to_string();
    }
    (2..)
        .map(|n| format!("{base} ({n})"))
        .find(|n| !taken(n))
        .unwrap_or_default()
}

/// Whether another policy may be added.
pub fn can_add_policy(f: &ScenarioForm) -> bool {
    f.policies.len() < MAX_POLICIES
}

/// Whether a policy may be removed.
pub fn can_remove_policy(f: &ScenarioForm) -> bool {
    f.policies.len() > MIN_POLICIES
}

/// Adds a quarterly calendar policy.
pub fn add_policy(f: &mut ScenarioForm) {
    if !can_add_policy(f) {
        return;
    }
    let name = fresh_policy_name(f, "New policy");
    f.policies.push(PolicyForm {
        name,
        calendar: Toggle {
            enabled: true,
            fields: CalendarForm {
                frequency: Some(Frequency::Quarterly),
            },
        },
        lot_method: Some(LotMethod::Hifo),
        ..PolicyForm::default()
    });
}

/// Duplicates policy `i` under a fresh name, right after it.
pub fn duplicate_policy(f: &mut ScenarioForm, i: usize) {
    if !can_add_policy(f) {
        return;
    }
    if let Some(p) = f.policies.get(i).cloned() {
        let name = fresh_policy_name(f, &format!("{} copy", p.name));
        f.policies.insert(i + 1, PolicyForm { name, ..p });
    }
}

/// Removes policy `i`; the baseline moves to the first policy if it was this one.
pub fn remove_policy(f: &mut ScenarioForm, i: usize) {
    if !can_remove_policy(f) || i >= f.policies.len() {
        return;
    }
    let gone = f.policies.remove(i);
    if f.baseline == gone.name {
        f.baseline = f.policies[0].name.clone();
    }
}

/// Renames policy `i`; the baseline follows the rename when it is this policy's: neither
/// the old nor the new name is another policy's (a name typed letter by letter can pass
/// through the baseline's, and the baseline must not move to the policy being typed; a
/// baseline renamed through another policy's name is left naming no policy, which the
/// form reports, rather than taken to that policy).
pub fn rename_policy(f: &mut ScenarioForm, i: usize, name: String) {
    let other = |n: &str| {
        f.policies
            .iter()
            .enumerate()
            .any(|(j, p)| j != i && p.name == n)
    };
    let Some(old) = f.policies.get(i).map(|p| p.name.clone()) else {
        return;
    };
    if f.baseline == old && !other(&old) && !other(&name) {
        f.baseline = name.clone();
    }
    f.policies[i].name = name;
}

/// A choice kept through a rename (the ticket preview's account or security, the import
/// panel's account): when the list of ids changed but kept its length (a rename keeps
/// every row in place) and the chosen id is gone from it, the id now in its place; `None`
/// when the choice stands, or the list grew or shrank (a removed row is not replaced by
/// its neighbour).
pub fn renamed_choice(before: &[String], now: &[String], chosen: &str) -> Option<String> {
    if before.len() != now.len() || now.iter().any(|x| x == chosen) {
        return None;
    }
    let i = before.iter().position(|x| x == chosen)?;
    now.get(i).cloned()
}

/// Keeps a choice through renames ([`renamed_choice`]): an effect over the list of ids
/// `ids` (tracked) that sets the choice (`get`, read untracked; `set`) to the renamed id.
pub fn follow_renames(
    ids: impl Fn() -> Vec<String> + 'static,
    get: impl Fn() -> String + 'static,
    set: impl Fn(String) + 'static,
) {
    leptos::prelude::Effect::new(move |before: Option<Vec<String>>| {
        let now = ids();
        if let Some(id) = before.and_then(|b| renamed_choice(&b, &now, &get())) {
            set(id);
        }
        now
    });
}

/// Presentation mode: the label shown for member `i` ("Client A", "Client B", …).
pub fn client_alias(i: usize) -> String {
    let letter = (b'A' + (i % 26) as u8) as char;
    format!("Client {letter}")
}

/// Presentation mode: the label shown for account `i` ("Account 1", …).
pub fn account_alias(i: usize) -> String {
    format!("Account {}", i + 1)
}

/// A validation path in the advisor's words: each list index replaced by what the entry
/// is called in the form (an account's name, a security's symbol, a policy's name, …), the
/// field's key with spaces, e.g. `household.accounts[0].cash` → "Accounts › Rivera joint
/// brokerage › cash".
pub fn problem_label(f: &ScenarioForm, path: &str) -> String {
    fn pick(name: &str, id: &str, n: usize, what: &str) -> String {
        let t = if name.trim().is_empty() {
            id.trim()
        } else {
            name.trim()
        };
        if t.is_empty() {
            format!("{what} {}", n + 1)
        } else {
            t.to_string()
        }
    }
    let mut out: Vec<String> = Vec::new();
    let mut account: Option<usize> = None;
    for seg in path.split('.') {
        let (key, indices): (&str, Vec<usize>) = match seg.split_once('[') {
            Some((k, rest)) => (
                k,
                rest.split(['[', ']'])
                    .filter_map(|i| i.parse().ok())
                    .collect(),
            ),
            None => (seg, Vec::new()),
        };
        let words = key.replace('_', " ");
        let i = match indices[..] {
            [] => {
                out.push(words);
                continue;
            }
            [i] => i,
            _ => {
                // A matrix entry: its row and column, from 1.
                let at: Vec<String> = indices.iter().map(|i| (i + 1).to_string()).collect();
                out.push(words);
                out.push(at.join(", "));
                continue;
            }
        };
        let entry = match key {
            "accounts" => {
                account = Some(i);
                f.household
                    .accounts
                    .get(i)
                    .map(|a| pick(&a.name, &a.id, i, "account"))
            }
            "lots" => account
                .and_then(|a| f.household.accounts.get(a))
                .and_then(|a| a.lots.get(i))
                .map(|l| pick(&l.id, &l.symbol, i, "lot")),
            "members" => f
                .household
                .members
                .get(i)
                .map(|m| pick(&m.name, &m.id, i, "member")),
            "securities" => f
                .securities
                .get(i)
                .map(|x| pick(&x.symbol, &x.name, i, "security")),
            "fee_schedules" => f
                .fee_schedules
                .get(i)
                .map(|x| pick(&x.name, &x.id, i, "schedule")),
            "policies" => f.policies.get(i).map(|x| pick(&x.name, "", i, "policy")),
            "classes" if out.last().is_some_and(|o| o == "market") => f
                .market
                .classes
                .get(i)
                .map(|c| pick(&c.name, "", i, "class")),
            "classes" if out.last().is_some_and(|o| o == "target") => f
                .target
                .classes
                .get(i)
                .map(|c| pick(&c.asset_class, "", i, "class")),
            "min_cash" => f
                .target
                .min_cash
                .get(i)
                .map(|m| pick(&m.account, "", i, "row")),
            "idiosyncratic_vol" => f
                .market
                .idiosyncratic_vol
                .get(i)
                .map(|v| pick(&v.symbol, "", i, "row")),
            _ => None,
        };
        out.push(words);
        out.push(entry.unwrap_or_else(|| format!("{}", i + 1)));
    }
    out.join(" › ")
}

/// Presentation mode: an account id shown as its alias ("Account 2"); an id the scenario
/// does not list is shown as is.
pub fn masked_account(s: &Scenario, id: &str) -> String {
    s.household
        .accounts
        .iter()
        .position(|a| a.id == id)
        .map_or_else(|| id.to_string(), account_alias)
}

/// Presentation mode: `text` with every account name and id and every member name and id
/// replaced by its alias, longest first (so "Alex traditional IRA" is masked whole before
/// "Alex" would be).
pub fn mask_names(s: &Scenario, text: &str) -> String {
    let mut pairs: Vec<(&str, String)> = Vec::new();
    for (i, a) in s.household.accounts.iter().enumerate() {
        pairs.push((a.name.as_str(), account_alias(i)));
        pairs.push((a.id.as_str(), account_alias(i)));
    }
    for (i, m) in s.household.members.iter().enumerate() {
        pairs.push((m.name.as_str(), client_alias(i)));
        pairs.push((m.id.as_str(), client_alias(i)));
    }
    pairs.retain(|(from, _)| !from.trim().is_empty());
    pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    let mut out = text.to_string();
    for (from, to) in pairs {
        out = replace_words(&out, from, &to);
    }
    out
}

/// `text` with each occurrence of `from` that is not part of a longer word (letters,
/// digits, `_`) replaced by `to`.
fn replace_words(text: &str, from: &str, to: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(from) {
        // The character before the match: in the text still to scan, or already written.
        let before = if i > 0 {
            rest[..i].chars().last()
        } else {
            out.chars().last()
        };
        let after = rest[i + from.len()..].chars().next();
        out.push_str(&rest[..i]);
        if word(before) || word(after) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[i + from.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tollbooth_engine::scenario::Scenario;

    #[test]
    fn problems_are_named_as_the_form_names_them() {
        let f = Scenario::demo().to_form();
        let a = &f.household.accounts[0];
        assert_eq!(
            problem_label(&f, "household.accounts[0].cash"),
            format!("household › accounts › {} › cash", a.name)
        );
        assert_eq!(
            problem_label(&f, "household.accounts[0].lots[1].quantity"),
            format!(
                "household › accounts › {} › lots › {} › quantity",
                a.name, a.lots[1].id
            )
        );
        assert_eq!(
            problem_label(&f, "securities[2].half_spread_bps"),
            format!("securities › {} › half spread bps", f.securities[2].symbol)
        );
        assert_eq!(
            problem_label(&f, "market.correlation[0][1]"),
            "market › correlation › 1, 2"
        );
        assert_eq!(problem_label(&f, "tax.ltcg_rate"), "tax › ltcg rate");
        // Target classes, minimum-cash rows and volatility rows by what they name.
        assert_eq!(
            problem_label(&f, "target.classes[1].weight"),
            format!(
                "target › classes › {} › weight",
                f.target.classes[1].asset_class
            )
        );
        assert_eq!(
            problem_label(&f, "target.min_cash[0].amount"),
            format!(
                "target › min cash › {} › amount",
                f.target.min_cash[0].account
            )
        );
        assert_eq!(
            problem_label(&f, "market.idiosyncratic_vol[0].vol"),
            format!(
                "market › idiosyncratic vol › {} › vol",
                f.market.idiosyncratic_vol[0].symbol
            )
        );
    }

    #[test]
    fn presentation_masks_names_in_free_text() {
        let s = Scenario::demo();
        let a = &s.household.accounts[1];
        let text = format!("Sell 10 BND in {}: rebalance", a.name);
        let masked = mask_names(&s, &text);
        assert_eq!(masked, "Sell 10 BND in Account 2: rebalance");
        assert_eq!(masked_account(&s, &a.id), "Account 2");
        for m in &s.household.members {
            assert!(!mask_names(&s, &format!("{} {}", m.name, a.name)).contains(&m.name));
        }
        // Only whole words: an id inside a longer word stays.
        assert_eq!(replace_words("joint, joints", "joint", "X"), "X, joints");
        assert_eq!(replace_words("a_joint joint", "joint", "X"), "a_joint X");
    }

    fn demo() -> ScenarioForm {
        Scenario::demo().to_form()
    }

    #[test]
    fn removing_a_security_or_account_leaves_no_uneditable_reference() {
        let mut f = demo();
        let i = f.securities.iter().position(|x| x.symbol == "TIP").unwrap();
        assert!(f.market.idiosyncratic_vol.iter().any(|v| v.symbol == "TIP"));
        remove_security(&mut f, i);
        assert!(!f.market.idiosyncratic_vol.iter().any(|v| v.symbol == "TIP"));
        let errs = f.validate().err().unwrap_or_default();
        assert!(
            errs.iter().all(|e| !e.path.starts_with("market.")),
            "{errs:?}"
        );
        let mut f = demo();
        let id = f.household.accounts[2].id.clone();
        assert!(f.target.min_cash.iter().any(|m| m.account == id));
        assert!(f.cash_flows.iter().any(|c| c.account == id));
        let others = f.cash_flows.iter().filter(|c| c.account != id).count();
        remove_account(&mut f, 2);
        assert!(!f.target.min_cash.iter().any(|m| m.account == id));
        // Its cash flows go too (a new account with the same id would inherit them).
        assert!(!f.cash_flows.iter().any(|c| c.account == id));
        assert_eq!(f.cash_flows.len(), others);
        // New rows start valid: the next account or security without one; none when
        // every one has a row (it would be listed twice).
        let mut f = demo();
        f.target.min_cash.clear();
        add_min_cash(&mut f);
        add_min_cash(&mut f);
        assert_eq!(f.target.min_cash[1].account, f.household.accounts[1].id);
        add_min_cash(&mut f);
        assert_eq!(next_min_cash_account(&f), None);
        add_min_cash(&mut f);
        assert_eq!(f.target.min_cash.len(), f.household.accounts.len());
        let rows = f.market.idiosyncratic_vol.len();
        assert_eq!(next_security_vol(&f), None);
        add_security_vol(&mut f);
        assert_eq!(f.market.idiosyncratic_vol.len(), rows);
        let gone = f.market.idiosyncratic_vol.remove(3).symbol;
        assert_eq!(next_security_vol(&f), Some(gone.clone()));
        add_security_vol(&mut f);
        assert_eq!(
            f.market.idiosyncratic_vol.last().map(|v| &v.symbol),
            Some(&gone)
        );
        assert!(f.validate().is_ok(), "{:?}", f.validate().err());
    }

    #[test]
    fn renaming_an_account_id_takes_its_references_along() {
        let mut f = demo();
        let a = 2;
        let old = f.household.accounts[a].id.clone();
        let flows = f.cash_flows.iter().filter(|c| c.account == old).count();
        assert!(flows > 0 && f.target.min_cash.iter().any(|m| m.account == old));
        let others: Vec<_> = f
            .cash_flows
            .iter()
            .filter(|c| c.account != old)
            .cloned()
            .collect();
        // Typed letter by letter, as the input sends it.
        let new = "alex_rollover_ira";
        for n in 1..=new.len() {
            rename_account(&mut f, a, new[..n].to_string());
        }
        assert_eq!(f.household.accounts[a].id, new);
        assert!(f.validate().is_ok(), "{:?}", f.validate().err());
        assert_eq!(
            f.cash_flows.iter().filter(|c| c.account == new).count(),
            flows
        );
        assert!(f.target.min_cash.iter().any(|m| m.account == new));
        assert!(!f.target.min_cash.iter().any(|m| m.account == old));
        let untouched: Vec<_> = f
            .cash_flows
            .iter()
            .filter(|c| c.account != new)
            .cloned()
            .collect();
        assert_eq!(untouched, others);
        // Passing through another account's id takes none of that account's references.
        let mut f = demo();
        let (a0, a1) = (
            f.household.accounts[0].id.clone(),
            f.household.accounts[1].id.clone(),
        );
        let before = f.clone();
        rename_account(&mut f, 1, a0.clone());
        rename_account(&mut f, 1, format!("{a0}2"));
        assert_eq!(f.target.min_cash, before.target.min_cash);
        assert_eq!(f.cash_flows, before.cash_flows);
        rename_account(&mut f, 1, a1);
        assert_eq!(f, before);
        rename_account(&mut f, 99, "x".into());
        assert_eq!(f, before);
    }

    /// Renaming a security's symbol takes its lots, partners, restrictions and
    /// volatility rows along (they were left on the old symbol, each an error).
    #[test]
    fn renaming_a_security_takes_its_lots_and_partners_along() {
        let mut f = demo();
        let i = f
            .securities
            .iter()
            .position(|x| {
                !x.partners.is_empty()
                    && f.household
                        .accounts
                        .iter()
                        .any(|a| a.lots.iter().any(|l| l.symbol == x.symbol))
            })
            .expect("a held security with partners");
        let old = f.securities[i].symbol.clone();
        let lots = |f: &ScenarioForm, s: &str| {
            f.household
                .accounts
                .iter()
                .flat_map(|a| &a.lots)
                .filter(|l| l.symbol == s)
                .count()
        };
        let partnered = |f: &ScenarioForm, s: &str| {
            f.securities
                .iter()
                .filter(|x| x.partners.iter().any(|p| p == s))
                .count()
        };
        let (held, partners) = (lots(&f, &old), partnered(&f, &old));
        f.target.restrictions.do_not_sell.push(old.clone());
        assert!(held > 0 && partners > 0);
        // Selected and typed over, letter by letter, as the input sends it.
        let new = "QQQX";
        for n in 1..=new.len() {
            rename_security(&mut f, i, new[..n].to_string());
        }
        assert_eq!(f.securities[i].symbol, new);
        assert_eq!((lots(&f, new), partnered(&f, new)), (held, partners));
        assert_eq!((lots(&f, &old), partnered(&f, &old)), (0, 0));
        assert_eq!(
            f.target.restrictions.do_not_sell.last().map(String::as_str),
            Some(new)
        );
        assert!(f.validate().is_ok(), "{:?}", f.validate().err());
        // Regression: a new security's blank symbol, typed in, adopted every blank
        // reference (a class whose primary is not chosen yet); a blank id is no one's.
        let mut f = demo();
        f.target.classes[0].primary.clear();
        f.securities.push(Default::default());
        let last = f.securities.len() - 1;
        rename_security(&mut f, last, "NEW".into());
        assert_eq!(f.securities[last].symbol, "NEW");
        assert!(f.target.classes[0].primary.is_empty());
    }

    #[test]
    fn renaming_a_member_or_schedule_id_moves_the_accounts_along() {
        let mut f = demo();
        let owner = f.household.accounts[0].owner.clone();
        let i = f
            .household
            .members
            .iter()
            .position(|m| m.id == owner)
            .unwrap();
        let owned = f
            .household
            .accounts
            .iter()
            .filter(|a| a.owner == owner)
            .count();
        rename_member(&mut f, i, "pat".into());
        assert_eq!(
            f.household
                .accounts
                .iter()
                .filter(|a| a.owner == "pat")
                .count(),
            owned
        );
        let sched = f.household.accounts[0].fee_schedule.clone();
        let s = f.fee_schedules.iter().position(|x| x.id == sched).unwrap();
        rename_fee_schedule(&mut f, s, "custodian".into());
        assert_eq!(f.household.accounts[0].fee_schedule, "custodian");
        assert!(f.validate().is_ok(), "{:?}", f.validate().err());
    }

    #[test]
    fn asset_location_choices_round_trip() {
        for l in LOCATIONS {
            assert_eq!(parse_location(&location_value(l)), l);
        }
        assert_eq!(
            location_value(&[AccountKind::K401, AccountKind::Taxable]),
            "401k,taxable"
        );
        assert_eq!(
            location_label(&[AccountKind::RothIra, AccountKind::Taxable]),
            "Roth IRA, then taxable"
        );
        assert_eq!(location_label(&[]), "Any account");
        // Every class of the demo is offered its own list, and a list from a file that is
        // no usual choice is offered as itself.
        let s = Scenario::demo();
        for c in &s.target.classes {
            let o = location_options(&c.location);
            assert!(o.iter().any(|(v, _)| *v == location_value(&c.location)));
            assert_eq!(
                o.len(),
                LOCATIONS.len(),
                "{}: {:?}",
                c.asset_class,
                c.location
            );
        }
        let odd = [AccountKind::K401, AccountKind::RothIra];
        assert_eq!(location_options(&odd).len(), LOCATIONS.len() + 1);
    }

    #[test]
    fn new_lots_get_unused_ids_and_validate_once_filled() {
        let mut f = demo();
        add_lot(&mut f, 2);
        let lot = f.household.accounts[2].lots.last().unwrap().clone();
        assert_eq!(lot.id, "L023");
        assert_eq!(lot.acquired, f.as_of);
        // Empty symbol/quantity/basis are field errors, not panics.
        let errs = f.validate().unwrap_err();
        assert!(errs
            .iter()
            .any(|e| e.path == "household.accounts[2].lots[4].symbol"));
        let l = f.household.accounts[2].lots.last_mut().unwrap();
        l.symbol = "VTI".into();
        l.quantity = "1".into();
        l.basis = "300".into();
        assert!(f.validate().is_ok());
        remove_lot(&mut f, 2, 4);
        remove_lot(&mut f, 2, 99);
        remove_lot(&mut f, 99, 0);
        assert_eq!(f, demo());
    }

    #[test]
    fn loading_a_preset_keeps_the_id_and_changes_the_ticket() {
        let mut f = demo();
        load_fee_preset(&mut f, 0, FeePreset::TradeAway);
        assert_eq!(f.fee_schedules[0].id, "flat_clearing");
        assert_eq!(f.fee_schedules[0].rows.etf.flat, "45");
        let s = f.validate().unwrap();
        let order = tollbooth_engine::scenario::Order {
            account: "joint",
            symbol: "VTI",
            side: tollbooth_engine::types::Side::Sell,
            quantity: 100.0,
            date: "2026-06-01".parse().unwrap(),
        };
        assert_eq!(s.ticket_cost(&order).unwrap().commission, 45.0);
    }

    #[test]
    fn added_rows_validate_with_defaults_where_they_can() {
        let mut f = demo();
        add_fee_schedule(&mut f, FeePreset::FlatClearing);
        add_fee_schedule(&mut f, FeePreset::FlatClearing);
        assert_eq!(f.fee_schedules[1].id, "flat_clearing_1");
        assert_eq!(f.fee_schedules[2].id, "flat_clearing_2");
        add_account(&mut f);
        add_member(&mut f);
        add_cash_flow(&mut f);
        assert_eq!(f.household.accounts[3].id, "account1");
        assert!(f.validate().is_ok(), "{:?}", f.validate().err());
        add_security(&mut f);
        add_class_target(&mut f);
        let errs = f.validate().unwrap_err();
        assert!(errs.iter().any(|e| e.path == "securities[21].symbol"));
        assert!(errs
            .iter()
            .any(|e| e.path == "target.classes[7].asset_class"
                || e.path.starts_with("target.classes[")));
    }

    #[test]
    fn a_choice_follows_a_rename_in_place_only() {
        let ids = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        let before = ids(&["joint", "ira_alex", "roth_sam"]);
        let renamed = ids(&["joint", "ira_alex", "roth_sam_2"]);
        assert_eq!(
            renamed_choice(&before, &renamed, "roth_sam"),
            Some("roth_sam_2".into())
        );
        // The choice is still there, or another row changed: it stands.
        assert_eq!(renamed_choice(&before, &renamed, "joint"), None);
        // A row removed or added: no neighbour takes its place.
        assert_eq!(
            renamed_choice(&before, &ids(&["joint", "ira_alex"]), "roth_sam"),
            None
        );
        assert_eq!(renamed_choice(&before, &before, "gone"), None);
    }

    /// Regression: typing a copy's name through the baseline's name moved the baseline to
    /// the copy (every "vs baseline" figure then measured against the wrong policy).
    #[test]
    fn the_baseline_stays_when_another_policy_is_typed_through_its_name() {
        let mut f = demo();
        let base = f.baseline.clone();
        duplicate_policy(&mut f, 0);
        let copy = f.policies[1].name.clone();
        assert_eq!(copy, format!("{base} copy"));
        // Backspace through " copy" to the baseline's name, then type on.
        for n in (base.len()..copy.len()).rev() {
            rename_policy(&mut f, 1, copy[..n].to_string());
        }
        assert_eq!(f.policies[1].name, base);
        for tail in [" ", " -", " - m", " - monthly"] {
            rename_policy(&mut f, 1, format!("{base}{tail}"));
        }
        assert_eq!(f.baseline, base);
        assert_eq!(f.policies[0].name, base);
        // The baseline itself renamed letter by letter, through a blank, follows.
        rename_policy(&mut f, 0, String::new());
        rename_policy(&mut f, 0, "Q".into());
        rename_policy(&mut f, 0, "Qtr".into());
        assert_eq!(f.baseline, "Qtr");
        // Renamed through another policy's name, it is left naming no policy (the form
        // says so) rather than taken to that policy.
        let other = f.policies[2].name.clone();
        rename_policy(&mut f, 0, other.clone());
        rename_policy(&mut f, 0, format!("{other}!"));
        assert_eq!(f.baseline, "Qtr");
        assert!(f.validate().is_err());
    }

    #[test]
    fn policies_stay_between_two_and_eight_and_the_baseline_follows() {
        let mut f = demo();
        let base = f.baseline.clone();
        assert_eq!(f.policies[0].name, base);
        rename_policy(&mut f, 0, "Quarterly".into());
        assert_eq!(f.baseline, "Quarterly");
        duplicate_policy(&mut f, 0);
        assert_eq!(f.policies[1].name, "Quarterly copy");
        duplicate_policy(&mut f, 0);
        assert_eq!(f.policies[1].name, "Quarterly copy (2)");
        assert!(f.validate().is_ok());
        while can_add_policy(&f) {
            add_policy(&mut f);
        }
        assert_eq!(f.policies.len(), MAX_POLICIES);
        add_policy(&mut f);
        duplicate_policy(&mut f, 0);
        assert_eq!(f.policies.len(), MAX_POLICIES);
        assert!(f.validate().is_ok(), "{:?}", f.validate().err());
        remove_policy(&mut f, 0);
        assert_eq!(f.baseline, f.policies[0].name);
        while can_remove_policy(&f) {
            remove_policy(&mut f, 0);
        }
        assert_eq!(f.policies.len(), MIN_POLICIES);
        assert!(f.validate().is_ok());
    }

    #[test]
    fn aliases() {
        assert_eq!(client_alias(0), "Client A");
        assert_eq!(client_alias(1), "Client B");
        assert_eq!(account_alias(0), "Account 1");
    }
}
