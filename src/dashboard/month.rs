//! A calendar month in UTC, as the cost page shows one: parsed from `?month=2026-11`, and turned into
//! the day numbers (days since 1970-01-01) the ledger's `day` grouping uses.

use std::fmt;

/// A calendar month, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: time::Month,
}

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

impl Month {
    /// The month holding `unix_day` (days since 1970-01-01), and that day's number in it (from 1).
    pub fn containing(unix_day: i64) -> (Month, u8) {
        let julian = i32::try_from(unix_day + UNIX_EPOCH_JULIAN_DAY).unwrap_or(0);
        let date = time::Date::from_julian_day(julian).unwrap_or(time::Date::MIN);
        (
            Month {
                year: date.year(),
                month: date.month(),
            },
            date.day(),
        )
    }

    /// `2026-11`, no later than `latest`. The error says what would be valid.
    pub fn parse(text: &str, latest: Month) -> Result<Month, String> {
        let bad = || {
            format!(
                "month `{text}` is not valid: expected a year and a month as YYYY-MM, such as {latest}"
            )
        };
        let (year, month) = text.split_once('-').ok_or_else(bad)?;
        if year.len() != 4
            || month.len() != 2
            || !year
                .bytes()
                .chain(month.bytes())
                .all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u8 = month.parse().map_err(|_| bad())?;
        let month = time::Month::try_from(month).map_err(|_| bad())?;
        let parsed = Month { year, month };
        if year < 1970 {
            return Err(bad());
        }
        if parsed > latest {
            return Err(format!(
                "month `{text}` has not begun yet: the latest is {latest} (the current month, UTC)"
            ));
        }
        Ok(parsed)
    }

    /// Its first day, as days since 1970-01-01.
    pub fn first_day(self) -> i64 {
        time::Date::from_calendar_date(self.year, self.month, 1)
            .map_or(0, |d| i64::from(d.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY)
    }

    /// How many days it has.
    pub fn days(self) -> u8 {
        self.month.length(self.year)
    }

    pub fn previous(self) -> Option<Month> {
        let (year, month) = match self.month {
            time::Month::January => (self.year - 1, time::Month::December),
            m => (self.year, m.previous()),
        };
        (year >= 1970).then_some(Month { year, month })
    }

    pub fn next(self) -> Month {
        match self.month {
            time::Month::December => Month {
                year: self.year + 1,
                month: time::Month::January,
            },
            m => Month {
                year: self.year,
                month: m.next(),
            },
        }
    }

    /// `November 2026`.
    pub fn title(self) -> String {
        format!("{} {}", self.month, self.year)
    }

    /// `Nov 3`.
    pub fn day_label(self, day: u8) -> String {
        let name = self.month.to_string();
        format!("{} {day}", name.get(..3).unwrap_or(&name))
    }
}

impl fmt::Display for Month {
    /// `2026-11`, as `?month=` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, u8::from(self.month))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_from_days_and_back() {
        let (m, day) = Month::containing(20_454);
        assert_eq!((m.to_string(), day), ("2026-01".to_string(), 1));
        assert_eq!(m.first_day(), 20_454);
        let (nov, day) = Month::containing(20_786);
        assert_eq!(
            (nov.to_string(), day, nov.days()),
            ("2026-11".into(), 29, 30)
        );
        assert_eq!(nov.title(), "November 2026");
        assert_eq!(nov.day_label(3), "Nov 3");
        assert_eq!(
            Month::containing(19_782).0.days(),
            29,
            "February 2024 is a leap month"
        );
        assert_eq!(
            m.previous().map(|p| p.to_string()).as_deref(),
            Some("2025-12")
        );
        assert_eq!(m.previous().unwrap().next(), m);
        assert_eq!(Month::containing(0).0.previous(), None);
    }

    #[test]
    fn month_parameters_are_validated() {
        let latest = Month::containing(20_786).0;
        assert_eq!(
            Month::parse("2026-10", latest).unwrap().to_string(),
            "2026-10"
        );
        assert_eq!(Month::parse("2026-11", latest).unwrap(), latest);
        for bad in [
            "2026-13",
            "2026-00",
            "26-11",
            "2026-1",
            "2026/11",
            "",
            "2026-1a",
            "+026-11",
            "1969-12",
            "2026-11-01",
        ] {
            let e = Month::parse(bad, latest).unwrap_err();
            assert!(
                e.contains("expected a year and a month as YYYY-MM, such as 2026-11"),
                "{bad}: {e}"
            );
        }
        let e = Month::parse("2026-12", latest).unwrap_err();
        assert!(e.contains("has not begun yet"), "{e}");
    }
}
