//! Property tests of the household ledger on random trade sequences: shares and basis
//! are conserved, recognized + disallowed = economic gain, no holding goes negative, every
//! wash match lies in the 61-day window, and replays are deterministic.

use proptest::prelude::*;
use std::collections::BTreeMap;
use tollbooth_engine::date::Date;
use tollbooth_engine::ledger::{Account, Ledger, OpeningLot, Security, Trade};
use tollbooth_engine::lots::{is_long_term, QTY_EPS};
use tollbooth_engine::types::{AccountKind, LotMethod, Side};

const ACCOUNTS: [(&str, AccountKind); 4] = [
    ("A-T", AccountKind::Taxable),
    ("B-T", AccountKind::Taxable),
    ("A-IRA", AccountKind::TraditionalIra),
    ("B-ROTH", AccountKind::RothIra),
];
/// A and B are substantially identical; C is a partner in another group.
const SECURITIES: [(&str, &str); 3] = [("A", "G1"), ("B", "G1"), ("C", "G2")];
const METHODS: [LotMethod; 4] = [
    LotMethod::Fifo,
    LotMethod::Lifo,
    LotMethod::Hifo,
    LotMethod::MinTax,
];

/// One random step: days to advance, account, symbol, buy?, size, price, fee.
type Step = (u8, usize, usize, bool, f64, f64, f64);

fn step() -> impl Strategy<Value = Step> {
    (
        0u8..12,
        0usize..ACCOUNTS.len(),
        0usize..SECURITIES.len(),
        any::<bool>(),
        0.05f64..1.0,
        5.0f64..15.0,
        prop_oneof![Just(0.0), 0.0f64..5.0],
    )
}

fn new_ledger(method: LotMethod) -> Ledger {
    let accounts = ACCOUNTS.iter().map(|(id, kind)| Account {
        id: (*id).into(),
        kind: *kind,
        owner: id[..1].into(),
    });
    let securities = SECURITIES.iter().map(|(s, g)| Security {
        symbol: (*s).into(),
        group: (*g).into(),
    });
    Ledger::new(accounts, securities, method).expect("valid household")
}

struct Run {
    ledger: Ledger,
    trades: Vec<Trade>,
    opening: Vec<OpeningLot>,
    /// Basis relieved by every sale, all accounts.
    relieved_basis: f64,
}

/// Turns random steps into a valid trade sequence (sells are a fraction of what is held;
/// a sell with nothing held becomes a buy) and applies it.
fn run(method: LotMethod, steps: &[Step]) -> Run {
    let mut ledger = new_ledger(method);
    let start = Date::from_ymd(2025, 6, 2).expect("date");
    let mut opening = Vec::new();
    for (k, (acct, _)) in ACCOUNTS.iter().enumerate().take(2) {
        for (j, (sym, _)) in SECURITIES.iter().enumerate() {
            let lot = OpeningLot {
                account: (*acct).into(),
                symbol: (*sym).into(),
                quantity: 10.0 + (k * 3 + j) as f64,
                basis: 100.0 + 17.0 * (k + 2 * j) as f64,
                acquired: start.add_days(-400 + 90 * (k + j) as i32),
                holding_start: None,
            };
            ledger.open_lot(lot.clone()).expect("valid opening lot");
            opening.push(lot);
        }
    }
    let mut date = start;
    let mut trades = Vec::new();
    let mut relieved_basis = 0.0;
    for &(dt, a, s, buy, size, price, fee) in steps {
        date = date.add_days(dt as i32);
        let (acct, sym) = (ACCOUNTS[a].0, SECURITIES[s].0);
        let held = ledger.held(acct, sym);
        let mut t = if buy || held < QTY_EPS {
            Trade::buy(
                date,
                acct,
                sym,
                (size * 40.0 * 1000.0).round() / 1000.0,
                price,
            )
        } else {
            // Sometimes sell everything, else a fraction.
            let q = if size > 0.8 { held } else { held * size };
            Trade::sell(date, acct, sym, q, price)
        };
        t.fee = fee.min(t.quantity * price * 0.5);
        let out = ledger.apply(&t).expect("generated trades are valid");
        // Basis relieved in retirement accounts (a taxable sale's is in its record, where
        // a later wash into shares it sold adds to it).
        if !ACCOUNTS[a].1.is_taxable() {
            relieved_basis += out.relieved.iter().map(|r| r.basis).sum::<f64>();
        }
        trades.push(t);
    }
    Run {
        ledger,
        trades,
        opening,
        relieved_basis,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn conservation_and_invariants(m in 0usize..METHODS.len(), steps in prop::collection::vec(step(), 1..40)) {
        let r = run(METHODS[m], &steps);
        let l = &r.ledger;

        // Shares: opening + bought − sold = held, per position.
        let mut net: BTreeMap<(String, String), f64> = BTreeMap::new();
        for o in &r.opening {
            *net.entry((o.account.clone(), o.symbol.clone())).or_default() += o.quantity;
        }
        for t in &r.trades {
            let sign = if t.side == Side::Buy { 1.0 } else { -1.0 };
            *net.entry((t.account.clone(), t.symbol.clone())).or_default() += sign * t.quantity;
        }
        for ((a, s), q) in &net {
            prop_assert!(close(l.held(a, s), *q), "{a}/{s}: held {} vs {q}", l.held(a, s));
        }

        // Basis: opening + purchases + washed-in loss = relieved (taxable sales' records,
        // retirement reliefs) + open.
        let opening: f64 = r.opening.iter().map(|o| o.basis).sum();
        let bought: f64 = r
            .trades
            .iter()
            .filter(|t| t.side == Side::Buy)
            .map(|t| t.quantity * t.price + t.fee)
            .sum();
        let washed_in: f64 = l.washes().iter().filter(|w| !w.permanent).map(|w| w.disallowed).sum();
        let lost: f64 = l.washes().iter().filter(|w| w.permanent).map(|w| w.disallowed).sum();
        let open: f64 = l.lots().map(|x| x.basis).sum();
        let sold_basis: f64 = l.sales().iter().map(|s| s.basis).sum();
        prop_assert!(close(opening + bought + washed_in, sold_basis + r.relieved_basis + open));
        prop_assert!(close(lost, l.permanently_disallowed()));
        let wash_adj: f64 = l.lots().map(|x| x.wash_adjustment).sum();
        prop_assert!(wash_adj <= washed_in + 1e-6);

        // Each sale: recognized − disallowed = economic gain; disallowed within the loss.
        let mut disallowed = 0.0;
        let mut permanent = 0.0;
        for s in l.sales() {
            prop_assert!(close(s.short_term + s.long_term - s.disallowed, s.proceeds - s.basis));
            prop_assert!(s.disallowed >= -1e-9 && s.permanently_disallowed <= s.disallowed + 1e-9);
            disallowed += s.disallowed;
            permanent += s.permanently_disallowed;
            for leg in &s.lots {
                let loss = (leg.basis - leg.proceeds).max(0.0);
                prop_assert!(leg.disallowed <= loss + 1e-6, "disallowed {} > loss {loss}", leg.disallowed);
                prop_assert!(leg.replaced <= leg.quantity + 1e-9);
                prop_assert_eq!(leg.long_term, is_long_term(leg.holding_start, s.date));
            }
            let trade = &r.trades[s.trade];
            prop_assert_eq!(trade.side, Side::Sell);
            prop_assert!(close(s.proceeds, trade.quantity * trade.price - trade.fee));
        }
        prop_assert!(close(disallowed, washed_in + lost));
        prop_assert!(close(permanent, lost));

        // No holding goes negative; replacement capacity and tacking are sane.
        for x in l.lots() {
            prop_assert!(x.quantity > 0.0);
            prop_assert!(x.basis >= -1e-9);
            prop_assert!(x.replacement_used >= -1e-12 && x.replacement_used <= x.quantity + 1e-9);
            prop_assert!(x.holding_start <= x.acquired);
        }

        // Every match is inside the 61-day window, same group, from a taxable sale.
        for w in l.washes() {
            let s = &l.sales()[w.sale];
            prop_assert!(w.acquired.days_since(s.date).abs() <= 30);
            prop_assert_eq!(l.group_of(&w.symbol), l.group_of(&s.symbol));
            prop_assert_eq!(w.permanent, !w.account.ends_with("-T"));
        }
    }

    #[test]
    fn deterministic(m in 0usize..METHODS.len(), steps in prop::collection::vec(step(), 1..30)) {
        let a = run(METHODS[m], &steps);
        let b = run(METHODS[m], &steps);
        prop_assert_eq!(a.ledger.sales(), b.ledger.sales());
        prop_assert_eq!(a.ledger.washes(), b.ledger.washes());
        let la: Vec<_> = a.ledger.lots().cloned().collect();
        let lb: Vec<_> = b.ledger.lots().cloned().collect();
        prop_assert_eq!(la, lb);
        prop_assert_eq!(a.ledger.permanently_disallowed().to_bits(), b.ledger.permanently_disallowed().to_bits());
    }
}

/// The generator must reach the interesting cases, or the properties above prove little.
#[test]
fn generator_exercises_wash_sales() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let strategy = prop::collection::vec(step(), 20..40);
    let (mut washed, mut lost, mut split, mut sales) = (0, 0, 0, 0);
    for _ in 0..64 {
        let steps = strategy.new_tree(&mut runner).expect("tree").current();
        let r = run(LotMethod::Fifo, &steps);
        sales += r.ledger.sales().len();
        washed += r.ledger.washes().iter().filter(|w| !w.permanent).count();
        lost += r.ledger.washes().iter().filter(|w| w.permanent).count();
        split += r
            .ledger
            .lots()
            .filter(|l| l.wash_adjustment > 0.0 && l.replacement_used < l.quantity + 1e-9)
            .count();
    }
    eprintln!("sales {sales} washed {washed} lost {lost} adjusted {split}");
    assert!(sales > 100, "sales {sales}");
    assert!(washed > 20, "taxable washes {washed}");
    assert!(lost > 10, "retirement washes {lost}");
    assert!(split > 5, "adjusted lots {split}");
}
