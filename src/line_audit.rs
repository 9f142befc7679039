//! Each fee line against the treatment province's catalogue (就医地目录): the catalogue row
//! valid on the line's date, found by a parallel hash join on (treatment province,
//! `med_list_codg`). The catalogue rules read the result.

use rayon::prelude::*;

use crate::model::{
    CatalogueItem, LineRow, Model, PerLine, SetlRow, TiSlice, catalogue_item, prov,
};
use crate::scope::Scope;

/// The catalogue row of each fee line looked at (`None`: not in the catalogue on that day,
/// or a line no rule looks at).
pub fn catalogue_items<'m>(
    model: &'m Model,
    scope: &Scope,
    line_owner: &TiSlice<LineRow, Option<SetlRow>>,
) -> PerLine<Option<&'m CatalogueItem>> {
    let lines = &model.fee_lines;
    let items: Vec<Option<&CatalogueItem>> = (0..lines.len())
        .into_par_iter()
        .map(|k| {
            let k = LineRow(k);
            let i = line_owner[k].filter(|&i| scope.is_checked_settlement(i))?;
            let rows = model
                .catalogue
                .get(prov(&scope.treatment[i]))?
                .get(&lines.med_list_codg[k])?;
            catalogue_item(rows, lines.fee_ocur_day[k])
        })
        .collect();
    items.into()
}
