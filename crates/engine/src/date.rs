//! Calendar dates without time zones, as the tax rules count them.
//!
//! A [`Date`] is a day number since 1970-01-01 in the proleptic Gregorian calendar. It
//! serializes as an ISO `YYYY-MM-DD` string. Arithmetic is exact integer arithmetic, so
//! results are identical natively and in WebAssembly.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A calendar day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

/// Why a string is not a date.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` {}", self.problem.text())]
pub struct DateParseError {
    /// The text that failed to parse.
    pub input: String,
    /// What is wrong with it.
    pub problem: DateProblem,
}

/// What is wrong with a string that is not a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateProblem {
    /// Not written `YYYY-MM-DD`.
    Format,
    /// Year 0: the calendar starts at year 1.
    YearZero,
    /// The month is not 1–12.
    Month,
    /// The month has no such day (e.g. 2025-02-29).
    Day,
}

impl DateProblem {
    fn text(self) -> &'static str {
        match self {
            DateProblem::Format => "is not a date: use YYYY-MM-DD (for example 2026-03-02)",
            DateProblem::YearZero => "is not a date: years run from 0001 to 9999",
            DateProblem::Month => "is not a date: the month must be 01 to 12",
            DateProblem::Day => "is not a date: that month has no such day",
        }
    }
}

impl Date {
    /// The last year a date can have (dates are written with four-digit years).
    pub const MAX_YEAR: i32 = 9999;

    /// Whether a horizon of `years` years from this date stays inside the calendar, with a
    /// year to spare for the last business days and the tax settled after the horizon.
    pub fn horizon_fits(self, years: u32) -> bool {
        i64::from(self.year()) + i64::from(years) < i64::from(Date::MAX_YEAR)
    }

    /// The date of a year, month (1–12) and day (1–31), or `None` when it does not exist.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        if !(1..=Date::MAX_YEAR).contains(&year) {
            return None;
        }
        Some(Date(days_from_civil(year, month, day)))
    }

    /// The date `days` days after 1970-01-01.
    pub const fn from_days(days: i32) -> Date {
        Date(days)
    }

    /// Days since 1970-01-01.
    pub const fn days(self) -> i32 {
        self.0
    }

    /// Year, month and day.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(self.0)
    }

    /// The calendar year.
    pub fn year(self) -> i32 {
        self.ymd().0
    }

    /// This date moved by `n` days (negative moves back).
    pub const fn add_days(self, n: i32) -> Date {
        Date(self.0 + n)
    }

    /// Days from `earlier` to `self` (negative if `earlier` is later).
    pub const fn days_since(self, earlier: Date) -> i32 {
        self.0 - earlier.0
    }

    /// Day of the week, 0 = Monday … 6 = Sunday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3).
        (self.0 + 3).rem_euclid(7) as u32
    }

    /// True on the days the New York Stock Exchange trades: Monday to Friday, less its
    /// full-day holidays ([`Date::is_exchange_holiday`]).
    pub fn is_business_day(self) -> bool {
        self.weekday() < 5 && !self.is_exchange_holiday()
    }

    /// True on a weekday the New York Stock Exchange is closed for a holiday (NYSE Rule
    /// 7.2): New Year's Day, Martin Luther King Jr. Day (third Monday of January),
    /// Washington's Birthday (third Monday of February), Good Friday, Memorial Day (last
    /// Monday of May), Juneteenth (from 2022), Independence Day, Labor Day (first Monday of
    /// September), Thanksgiving (fourth Thursday of November) and Christmas. A holiday on a
    /// Saturday is observed the Friday before, on a Sunday the Monday after — except New
    /// Year's Day on a Saturday, which is not observed. Unscheduled closures (national days
    /// of mourning, weather) are not modelled.
    pub fn is_exchange_holiday(self) -> bool {
        let wd = self.weekday();
        if wd >= 5 {
            return false;
        }
        let (y, m, d) = self.ymd();
        // A fixed-date holiday on this weekday, as observed.
        let observed = |hm: u32, hd: u32, saturday_to_friday: bool| {
            Date::from_ymd(y, hm, hd).is_some_and(|h| {
                let actual = match h.weekday() {
                    5 if saturday_to_friday => h.add_days(-1),
                    6 => h.add_days(1),
                    _ => h,
                };
                actual == self
            })
        };
        // The n-th (1-based) weekday `w` of the month, or the last one (n = 0).
        let nth = |w: u32, n: u32| {
            if n == 0 {
                d + 7 > days_in_month(y, m) && wd == w
            } else {
                wd == w && (d - 1) / 7 + 1 == n
            }
        };
        observed(1, 1, false)
            || (m == 1 && nth(0, 3))
            || (m == 2 && nth(0, 3))
            || easter_sunday(y).add_days(-2) == self
            || (m == 5 && nth(0, 0))
            || (y >= 2022 && observed(6, 19, true))
            || observed(7, 4, true)
            || (m == 9 && nth(0, 1))
            || (m == 11 && nth(3, 4))
            || observed(12, 25, true)
    }

    /// The next business day strictly after this date.
    pub fn next_business_day(self) -> Date {
        let mut d = self.add_days(1);
        while !d.is_business_day() {
            d = d.add_days(1);
        }
        d
    }

    /// The same month and day `years` later (29 February becomes 28 February in a
    /// common year).
    pub fn add_years(self, years: i32) -> Date {
        let (y, m, d) = self.ymd();
        let y2 = y + years;
        let d2 = d.min(days_in_month(y2, m));
        Date(days_from_civil(y2, m, d2))
    }
}

/// Easter Sunday of `year` in the Gregorian calendar (the anonymous algorithm in Meeus,
/// *Astronomical Algorithms*).
pub fn easter_sunday(year: i32) -> Date {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let (d, e) = (b / 4, b % 4);
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let (i, k) = (c / 4, c % 4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date(days_from_civil(year, month as u32, day as u32))
}

/// True in a Gregorian leap year.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i32;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl FromStr for Date {
    type Err = DateParseError;

    fn from_str(s: &str) -> Result<Date, DateParseError> {
        let err = |problem| DateParseError {
            input: s.to_string(),
            problem,
        };
        let t = s.trim();
        let b = t.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err(DateProblem::Format));
        }
        let num = |r: std::ops::Range<usize>| -> Result<u32, DateParseError> {
            let part = &t[r];
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(err(DateProblem::Format));
            }
            part.parse::<u32>().map_err(|_| err(DateProblem::Format))
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if y == 0 {
            return Err(err(DateProblem::YearZero));
        }
        if !(1..=12).contains(&m) {
            return Err(err(DateProblem::Month));
        }
        Date::from_ymd(y as i32, m, d).ok_or_else(|| err(DateProblem::Day))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_known_dates() {
        assert_eq!(Date::from_ymd(1970, 1, 1).unwrap().days(), 0);
        assert_eq!(
            "2000-03-01".parse::<Date>().unwrap().to_string(),
            "2000-03-01"
        );
        assert_eq!(
            "2024-02-29"
                .parse::<Date>()
                .unwrap()
                .add_years(1)
                .to_string(),
            "2025-02-28"
        );
        for z in -800_000..800_000 {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    #[test]
    fn rejects_bad_text() {
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026/01/01",
            "2026-1-01",
            "",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
        // The message says what is wrong.
        let problem = |t: &str| t.parse::<Date>().map(|_| ()).unwrap_err().problem;
        assert_eq!(problem("2026/01/01"), DateProblem::Format);
        assert_eq!(problem("99999-01-01"), DateProblem::Format);
        assert_eq!(problem("0000-01-01"), DateProblem::YearZero);
        assert_eq!(problem("2026-13-01"), DateProblem::Month);
        assert_eq!(problem("2025-02-29"), DateProblem::Day);
        assert_eq!(
            "0000-01-01".parse::<Date>().unwrap_err().to_string(),
            "`0000-01-01` is not a date: years run from 0001 to 9999"
        );
    }

    #[test]
    fn exchange_holidays_are_the_nyse_calendar() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        // The NYSE's published holidays for 2026 and 2027.
        let published = [
            "2026-01-01",
            "2026-01-19",
            "2026-02-16",
            "2026-04-03",
            "2026-05-25",
            "2026-06-19",
            "2026-07-03",
            "2026-09-07",
            "2026-11-26",
            "2026-12-25",
            "2027-01-01",
            "2027-01-18",
            "2027-02-15",
            "2027-03-26",
            "2027-05-31",
            "2027-06-18",
            "2027-07-05",
            "2027-09-06",
            "2027-11-25",
            "2027-12-24",
        ];
        let mut found = Vec::new();
        let mut x = d("2026-01-01");
        while x <= d("2027-12-31") {
            if x.is_exchange_holiday() {
                found.push(x.to_string());
            }
            x = x.add_days(1);
        }
        assert_eq!(found, published);
        // 251 sessions in each of those years.
        for y in [2026, 2027] {
            let mut n = 0;
            let mut x = Date::from_ymd(y, 1, 1).unwrap();
            while x.year() == y {
                n += u32::from(x.is_business_day());
                x = x.add_days(1);
            }
            assert_eq!(n, 251, "{y}");
        }
        // New Year's Day on a Saturday is not observed (the Friday before trades).
        assert!(d("2021-12-31").is_business_day());
        assert!(!d("2022-01-01").is_business_day());
        // On a Sunday, the Monday after.
        assert!(d("2023-01-02").is_exchange_holiday());
        assert_eq!(easter_sunday(2024), d("2024-03-31"));
        assert_eq!(easter_sunday(2038), d("2038-04-25"));
        // Juneteenth from 2022 only.
        assert!(!d("2021-06-18").is_exchange_holiday());
        assert!(d("2024-06-19").is_exchange_holiday());
        // The day after Thanksgiving trades.
        assert!(d("2026-11-27").is_business_day());
        assert_eq!(d("2026-12-24").next_business_day(), d("2026-12-28"));
    }

    #[test]
    fn weekdays() {
        // 2026-11-23 is a Monday.
        let mon: Date = "2026-11-23".parse().unwrap();
        assert_eq!(mon.weekday(), 0);
        assert!(!mon.add_days(-1).is_business_day());
        assert_eq!(mon.add_days(4).next_business_day(), mon.add_days(7));
    }
}
