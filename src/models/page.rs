//! Anthropic's list pagination for `GET /v1/models`: `limit` (1–1000, default 20), and a cursor —
//! `after_id` (the page after that model) or `before_id` (the page before it). The answer says `has_more`
//! when models remain beyond the page in the direction of travel, as the Anthropic SDKs' auto-pagination
//! expects.

/// Anthropic's default page size.
const DEFAULT_LIMIT: usize = 20;
/// Anthropic's largest page.
const MAX_LIMIT: usize = 1000;

/// The page a client asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageQuery {
    pub limit: usize,
    pub after_id: Option<String>,
    pub before_id: Option<String>,
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<'a> {
    pub items: &'a [String],
    pub has_more: bool,
}

impl PageQuery {
    /// Reads `limit`, `after_id` and `before_id` from a query string; other parameters are ignored.
    pub fn parse(query: Option<&str>) -> Result<PageQuery, String> {
        let mut page = PageQuery {
            limit: DEFAULT_LIMIT,
            after_id: None,
            before_id: None,
        };
        for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match key.as_ref() {
                "limit" => {
                    page.limit = value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_LIMIT).contains(n))
                        .ok_or_else(|| format!("limit: `{value}` is not valid: expected a number from 1 to {MAX_LIMIT}"))?;
                }
                "after_id" => page.after_id = Some(value.into_owned()),
                "before_id" => page.before_id = Some(value.into_owned()),
                _ => {}
            }
        }
        if page.after_id.is_some() && page.before_id.is_some() {
            return Err("give either after_id or before_id, not both".to_string());
        }
        Ok(page)
    }

    /// The page of `all` this query names; an unknown cursor id is an error naming it.
    pub fn apply<'a>(&self, all: &'a [String]) -> Result<Page<'a>, String> {
        let position = |id: &str, field: &str| {
            all.iter().position(|m| m == id).ok_or_else(|| {
                format!("{field}: `{id}` is not in this list of models (GET /v1/models lists them)")
            })
        };
        if let Some(id) = &self.before_id {
            let end = position(id, "before_id")?;
            let start = end.saturating_sub(self.limit);
            return Ok(Page {
                items: &all[start..end],
                has_more: start > 0,
            });
        }
        let start = match &self.after_id {
            Some(id) => position(id, "after_id")? + 1,
            None => 0,
        };
        let end = (start + self.limit).min(all.len());
        Ok(Page {
            items: &all[start..end],
            has_more: end < all.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn models(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("m{i}")).collect()
    }

    #[test]
    fn limit_and_cursors_walk_the_list_both_ways() {
        let all = models(5);
        let page = |q: &str| {
            PageQuery::parse(Some(q))
                .and_then(|p| p.apply(&all).map(|p| (p.items.to_vec(), p.has_more)))
        };
        assert_eq!(page("limit=2"), Ok((vec!["m0".into(), "m1".into()], true)));
        assert_eq!(
            page("limit=2&after_id=m1"),
            Ok((vec!["m2".into(), "m3".into()], true))
        );
        assert_eq!(page("limit=2&after_id=m3"), Ok((vec!["m4".into()], false)));
        assert_eq!(
            page("limit=2&before_id=m4"),
            Ok((vec!["m2".into(), "m3".into()], true))
        );
        assert_eq!(
            page("limit=5&before_id=m2"),
            Ok((vec!["m0".into(), "m1".into()], false))
        );
        assert_eq!(page("limit=1000&beta=true"), Ok((all.clone(), false)));
        assert_eq!(PageQuery::parse(None).map(|p| p.limit), Ok(20));
    }

    #[test]
    fn bad_queries_say_what_is_valid() {
        for q in ["limit=0", "limit=1001", "limit=x"] {
            assert!(
                PageQuery::parse(Some(q))
                    .unwrap_err()
                    .contains("expected a number from 1 to 1000"),
                "{q}"
            );
        }
        assert!(PageQuery::parse(Some("after_id=a&before_id=b")).is_err());
        let all = models(2);
        let err = PageQuery::parse(Some("after_id=gone"))
            .and_then(|p| p.apply(&all).map(|_| ()))
            .unwrap_err();
        assert!(err.contains("after_id: `gone`"), "{err}");
    }
}
