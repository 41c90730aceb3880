//! One pager for every list (API.md "Lists"): newest first by id, `limit` 1..=200 (50 by default),
//! and an opaque `next_cursor` that is the last id of the page. The shape of svix's
//! `apply_pagination` / `ListResponse`: ask for one row more than the page to learn whether another
//! page follows, without a count.
//!
//! Use: `let page = PageRequest::parse(limit, cursor)?;` then
//! `let rows = page.apply(select, entity::Column::Id).all(conn).await?;` and
//! `paginate(rows, &page, |row| row.id)` (or `Page::map` to turn rows into views).

use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect, Select};

use crate::error::{AppError, AppResult, Reason};

/// The page size when the client gives none.
pub const LIMIT_DEFAULT: u64 = 50;
/// The largest page.
pub const LIMIT_MAX: u64 = 200;

/// One page of a list and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Page<T> {
    /// The items of this page, newest first.
    pub items: Vec<T>,
    /// The cursor of the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// The same page with each item turned into another (a row into its view).
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }

    /// The same page with each item turned into another, stopping at the first error.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Page<U>, E> {
        Ok(Page {
            items: self.items.into_iter().map(f).collect::<Result<_, E>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

/// A validated page size and cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows per page, 1..=[`LIMIT_MAX`].
    pub limit: u64,
    /// Only ids below this one (the previous page's last id).
    pub before_id: Option<i64>,
}

impl PageRequest {
    /// Checks `limit` (400 `limit` out of range) and `cursor` (400 `cursor` when it is not a
    /// `next_cursor` value); an empty cursor is the first page.
    pub fn parse(limit: Option<u64>, cursor: Option<&str>) -> AppResult<Self> {
        let limit = limit.unwrap_or(LIMIT_DEFAULT);
        if !(1..=LIMIT_MAX).contains(&limit) {
            return Err(AppError::invalid(
                "limit",
                Reason::OutOfRange {
                    min: "1".into(),
                    max: LIMIT_MAX.to_string(),
                },
            ));
        }
        let before_id = match cursor.filter(|c| !c.is_empty()) {
            Some(c) => Some(c.parse::<i64>().map_err(|_| {
                AppError::invalid(
                    "cursor",
                    Reason::InvalidFormat {
                        expected: "a next_cursor value",
                    },
                )
            })?),
            None => None,
        };
        Ok(PageRequest { limit, before_id })
    }

    /// `select` ordered newest first by `id`, after the cursor, limited to one row more than the
    /// page (see [`paginate`]).
    pub fn apply<E, C>(&self, select: Select<E>, id: C) -> Select<E>
    where
        E: sea_orm::EntityTrait,
        C: ColumnTrait,
    {
        let mut select = select.order_by_desc(id);
        if let Some(before) = self.before_id {
            select = select.filter(id.lt(before));
        }
        select.limit(self.limit + 1)
    }
}

/// The page of `rows` (fetched with [`PageRequest::apply`], so up to `limit + 1` of them): the first
/// `limit`, and a cursor at the last one's id when there were more.
pub fn paginate<T>(rows: Vec<T>, page: &PageRequest, id_of: impl Fn(&T) -> i64) -> Page<T> {
    let has_more = rows.len() as u64 > page.limit;
    let mut items = rows;
    items.truncate(page.limit as usize);
    let next_cursor = if has_more {
        items.last().map(|last| id_of(last).to_string())
    } else {
        None
    };
    Page { items, next_cursor }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_with_more_rows_than_the_limit_points_at_its_last_item() {
        let page = PageRequest::parse(Some(2), None).unwrap();
        let got = paginate(vec![9, 8, 7], &page, |id| *id);
        assert_eq!(got.items, vec![9, 8]);
        assert_eq!(got.next_cursor.as_deref(), Some("8"));
        let last = paginate(vec![7], &page, |id| *id);
        assert_eq!(last.next_cursor, None);
    }

    #[test]
    fn a_limit_out_of_range_or_a_cursor_that_is_not_an_id_is_refused_naming_it() {
        assert_eq!(
            PageRequest::parse(Some(0), None)
                .unwrap_err()
                .field
                .as_deref(),
            Some("limit")
        );
        assert_eq!(
            PageRequest::parse(Some(201), None)
                .unwrap_err()
                .field
                .as_deref(),
            Some("limit")
        );
        assert_eq!(
            PageRequest::parse(None, Some("abc"))
                .unwrap_err()
                .field
                .as_deref(),
            Some("cursor")
        );
        assert_eq!(
            PageRequest::parse(None, Some("")).unwrap(),
            PageRequest {
                limit: 50,
                before_id: None
            }
        );
    }
}
