//! The household optimizer on the demo household.

use tollbooth_engine::household::*;
use tollbooth_engine::scenario::Scenario;

#[test]
fn prints() {
    let s = Scenario::demo();
    for p in &s.policies {
        let sol = todays_trades(&s, p, s.as_of);
        println!(
            "== {} {:?} {:?} obj {} lb {} gap {} solves {}",
            p.name, sol.status, sol.messages, sol.objective, sol.lower_bound, sol.gap, sol.solves
        );
        println!("{:?}", sol.terms);
        for t in &sol.trades {
            println!("  {:?} {}", t.reason, t.explanation);
        }
    }
}
