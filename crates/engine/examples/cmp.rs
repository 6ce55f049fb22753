use tollbooth_engine::simulate::{six_policies, SimOptions, Simulation};
fn main() {
    let s = six_policies();
    let opts = SimOptions {
        paths: Some(40),
        years: Some(10),
        ..SimOptions::default()
    };
    let r = Simulation::new(&s, &opts)
        .expect("valid")
        .run()
        .expect("run");
    for p in &r.policies {
        for m in &p.metrics {
            println!("{}\t{}\t{:?}", p.name, m.key, m.stat.mean);
        }
    }
}
