use tollbooth_engine::scenario::Scenario;
use tollbooth_engine::simulate::*;
#[test]
fn smoke() {
    let s = Scenario::demo();
    let t = std::time::Instant::now();
    let r = simulate(&s, &SimOptions { paths: Some(1), years: Some(10), ..Default::default() }).unwrap();
    eprintln!("elapsed {:?}", t.elapsed());
    for p in &r.policies {
        eprintln!("== {}", p.name);
        for m in &p.metrics { eprintln!("  {:28} mean {:>14.2} p5 {:>14.2} p95 {:>14.2}", m.key, m.stat.mean, m.stat.p5, m.stat.p95); }
        eprintln!("  break-even {:?} nna {:?} friction {}", p.break_even_ticket_fee, p.ticket_charges_to_nna, p.friction_flag);
    }
    for (n, rows) in &r.trades.policies { eprintln!("{} trades {}", n, rows.len()); for row in rows.iter().take(12) { eprintln!("   {} {} {} {:?} {:.3} @{:.2} {:?} gain {:.2} dis {:.2}", row.date, row.account, row.symbol, row.side, row.quantity, row.price, row.reason, row.realized_gain, row.disallowed); } }
}
