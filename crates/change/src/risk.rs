//! Risk: a 0–100 score in which every point is explained by a factor.
//!
//! | factor | points |
//! |---|---|
//! | `userImpact` | NONE 0, LOW 5, MEDIUM 10, HIGH 15 |
//! | `outageRequired` | 15 when an outage is needed |
//! | `tested` | 15 when the change was not tested |
//! | `backoutTested` | 10 when the backout was not tested |
//! | `doneBefore` | 5 when the change was never done before |
//! | `affectedItemCriticality` | the most critical affected CI: 1 → 15, 2 → 10, 3 → 5, 4 → 0 |
//! | `businessServiceCriticality` | the most critical business service in the blast radius: 1 → 10, 2 → 6, 3 → 3, 4 → 0 |
//! | `failureHistory` | 15 × the share of the changes completed on the same CIs in the last 180 days that FAILED or were BACKED_OUT, rounded |

use chrono::{DateTime, Duration, Utc};
use quorum_cmdb::{ConfigurationItem, WalkDirection};
use quorum_core::{Actor, DomainResult};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};

use crate::entity::{ChangeOutcome, RiskLevel, UserImpact, affected_item, change_request};

/// How far the blast radius reaches: the CMDB's default impact depth.
pub const BLAST_RADIUS_DEPTH: u32 = 5;
/// How far back past changes on the same CIs count.
pub const FAILURE_HISTORY_DAYS: i64 = 180;

/// The change manager's answers to the risk questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskQuestionnaire {
    pub user_impact: UserImpact,
    pub outage_required: bool,
    pub tested: bool,
    pub backout_tested: bool,
    pub done_before: bool,
}

/// What a risk factor weighs: the questionnaire's answers, the CIs, the history. The values
/// are the names stored in the change's risk (camelCase, as before this was a closed set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "camelCase")]
#[graphql(rename_items = "camelCase")]
pub enum RiskFactorName {
    /// How many users the change may affect (questionnaire).
    UserImpact,
    /// Whether the change needs an outage (questionnaire).
    OutageRequired,
    /// Whether the change was tested (questionnaire).
    Tested,
    /// Whether the backout was tested (questionnaire).
    BackoutTested,
    /// Whether the same change was done before (questionnaire).
    DoneBefore,
    /// The most critical CI the change touches.
    AffectedItemCriticality,
    /// The most critical business service in the change's blast radius.
    BusinessServiceCriticality,
    /// How past changes on the same CIs went.
    FailureHistory,
    /// A STANDARD change: its template is its assessment.
    StandardTemplate,
}

/// One reason for risk points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskFactor {
    pub name: RiskFactorName,
    pub points: i32,
    pub detail: String,
}

/// A change's risk: the score is the sum of the factors' points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskAssessment {
    pub score: i32,
    pub level: RiskLevel,
    pub factors: Vec<RiskFactor>,
    /// None for standard changes, whose template is the assessment.
    pub questionnaire: Option<RiskQuestionnaire>,
    pub assessed_at: DateTime<Utc>,
    pub assessed_by: String,
}

impl RiskAssessment {
    fn from_factors(
        factors: Vec<RiskFactor>,
        questionnaire: Option<RiskQuestionnaire>,
        assessed_at: DateTime<Utc>,
        assessed_by: &str,
    ) -> Self {
        let score = factors
            .iter()
            .map(|factor| factor.points)
            .sum::<i32>()
            .clamp(0, 100);
        Self {
            score,
            level: RiskLevel::of_score(score),
            factors,
            questionnaire,
            assessed_at,
            assessed_by: assessed_by.to_owned(),
        }
    }

    /// The assessment of `answers` and `facts` at `assessed_at`: the factors of the module's
    /// table, the score their sum. Pure: `assessChange` gathers the facts from the database and
    /// the bulk seed from the estate it holds, and both score them here.
    pub fn from_facts(
        answers: RiskQuestionnaire,
        facts: &RiskFacts<'_>,
        assessed_at: DateTime<Utc>,
        assessed_by: &str,
    ) -> Self {
        let mut factors = questionnaire_factors(&answers);
        factors.push(affected_item_factor(facts.affected.iter().copied()));
        factors.push(business_service_factor(
            facts.business_services.iter().copied(),
        ));
        factors.push(failure_history_factor(facts.failed, facts.completed));
        Self::from_factors(factors, Some(answers), assessed_at, assessed_by)
    }

    /// The assessment of a change raised from a standard template: pre-authorized, LOW.
    pub fn standard(template_name: &str, at: DateTime<Utc>, by: &str) -> Self {
        Self::from_factors(
            vec![RiskFactor {
                name: RiskFactorName::StandardTemplate,
                points: 0,
                detail: format!("pre-authorized standard change from template `{template_name}`"),
            }],
            None,
            at,
            by,
        )
    }
}

/// A CI as the risk rules weigh it: its criticality, and its number and name for the detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatedItem<'a> {
    pub number: &'a str,
    pub name: &'a str,
    pub criticality: i32,
}

impl<'a> From<&'a ConfigurationItem> for RatedItem<'a> {
    fn from(item: &'a ConfigurationItem) -> Self {
        Self {
            number: &item.number,
            name: &item.name,
            criticality: item.criticality,
        }
    }
}

/// What an assessment weighs besides the questionnaire's answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RiskFacts<'a> {
    /// The affected CIs.
    pub affected: Vec<RatedItem<'a>>,
    /// The business services in the blast radius ([`BLAST_RADIUS_DEPTH`] hops of impact), the
    /// affected ones included.
    pub business_services: Vec<RatedItem<'a>>,
    /// Of the other changes on the same CIs completed in the last [`FAILURE_HISTORY_DAYS`]
    /// days: how many FAILED or were BACKED_OUT…
    pub failed: usize,
    /// …and how many there were.
    pub completed: usize,
}

fn factor(name: RiskFactorName, points: i32, detail: String) -> RiskFactor {
    RiskFactor {
        name,
        points,
        detail,
    }
}

fn questionnaire_factors(answers: &RiskQuestionnaire) -> Vec<RiskFactor> {
    let impact_points = match answers.user_impact {
        UserImpact::None => 0,
        UserImpact::Low => 5,
        UserImpact::Medium => 10,
        UserImpact::High => 15,
    };
    let yes_no = |flag: bool, points: i32, yes: &str, no: &str| {
        if flag {
            (points, yes.to_owned())
        } else {
            (0, no.to_owned())
        }
    };
    let (outage, outage_detail) = yes_no(
        answers.outage_required,
        15,
        "an outage is required",
        "no outage is required",
    );
    let (untested, tested_detail) = yes_no(
        !answers.tested,
        15,
        "the change has not been tested",
        "the change has been tested",
    );
    let (backout, backout_detail) = yes_no(
        !answers.backout_tested,
        10,
        "the backout plan has not been tested",
        "the backout plan has been tested",
    );
    let (new, new_detail) = yes_no(
        !answers.done_before,
        5,
        "this change has not been done before",
        "this change has been done before",
    );
    vec![
        factor(
            RiskFactorName::UserImpact,
            impact_points,
            format!(
                "user impact {}",
                crate::lifecycle::name_of(&answers.user_impact)
            ),
        ),
        factor(RiskFactorName::OutageRequired, outage, outage_detail),
        factor(RiskFactorName::Tested, untested, tested_detail),
        factor(RiskFactorName::BackoutTested, backout, backout_detail),
        factor(RiskFactorName::DoneBefore, new, new_detail),
    ]
}

/// Points for the criticality of the most critical affected CI (1 is the most critical).
fn affected_item_points(criticality: i32) -> i32 {
    match criticality {
        1 => 15,
        2 => 10,
        3 => 5,
        _ => 0,
    }
}

/// Points for the criticality of the most critical business service in the blast radius.
fn business_service_points(criticality: i32) -> i32 {
    match criticality {
        1 => 10,
        2 => 6,
        3 => 3,
        _ => 0,
    }
}

/// Points for `failed` of `completed` recent changes on the same CIs: 15 × the share, rounded.
fn failure_history_points(failed: usize, completed: usize) -> i32 {
    if completed == 0 {
        return 0;
    }
    ((15.0 * failed as f64) / completed as f64).round() as i32
}

/// The most critical of `items`; ties go to the lower number.
fn most_critical<'a>(items: impl Iterator<Item = RatedItem<'a>>) -> Option<RatedItem<'a>> {
    items.min_by_key(|item| (item.criticality, item.number))
}

fn affected_item_factor<'a>(affected: impl Iterator<Item = RatedItem<'a>>) -> RiskFactor {
    match most_critical(affected) {
        Some(item) => factor(
            RiskFactorName::AffectedItemCriticality,
            affected_item_points(item.criticality),
            format!(
                "most critical affected CI: {} {} (criticality {})",
                item.number, item.name, item.criticality
            ),
        ),
        None => factor(
            RiskFactorName::AffectedItemCriticality,
            0,
            "no affected CI".to_owned(),
        ),
    }
}

fn business_service_factor<'a>(services: impl Iterator<Item = RatedItem<'a>>) -> RiskFactor {
    match most_critical(services) {
        Some(service) => factor(
            RiskFactorName::BusinessServiceCriticality,
            business_service_points(service.criticality),
            format!(
                "most critical business service in the blast radius: {} {} (criticality {})",
                service.number, service.name, service.criticality
            ),
        ),
        None => factor(
            RiskFactorName::BusinessServiceCriticality,
            0,
            format!("no business service within {BLAST_RADIUS_DEPTH} hops"),
        ),
    }
}

fn failure_history_factor(failed: usize, completed: usize) -> RiskFactor {
    if completed == 0 {
        factor(
            RiskFactorName::FailureHistory,
            0,
            format!("no change on these CIs completed in the last {FAILURE_HISTORY_DAYS} days"),
        )
    } else {
        factor(
            RiskFactorName::FailureHistory,
            failure_history_points(failed, completed),
            format!(
                "{failed} of {completed} changes on these CIs in the last {FAILURE_HISTORY_DAYS} days failed or were backed out"
            ),
        )
    }
}

/// Assesses a change touching `affected` CIs with `answers`, at `now`.
pub(crate) async fn assess<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    change_id: &str,
    affected: &[ConfigurationItem],
    answers: RiskQuestionnaire,
    now: DateTime<Utc>,
) -> DomainResult<RiskAssessment> {
    let ids: Vec<String> = affected.iter().map(|item| item.id.clone()).collect();
    let blast =
        quorum_cmdb::walk_from(db, actor, &ids, WalkDirection::Impact, BLAST_RADIUS_DEPTH).await?;
    let business_services = affected
        .iter()
        .filter(|item| item.class == quorum_cmdb::CiClass::BusinessService)
        .chain(
            blast
                .business_services()
                .map(|reached| reached.item.as_ref()),
        )
        .map(RatedItem::from)
        .collect();
    let (failed, completed) = failure_history(db, change_id, &ids, now).await?;
    let facts = RiskFacts {
        affected: affected.iter().map(RatedItem::from).collect(),
        business_services,
        failed,
        completed,
    };
    Ok(RiskAssessment::from_facts(
        answers,
        &facts,
        now,
        actor.subject(),
    ))
}

/// Of the other changes on any of `ci_ids` completed in the last 180 days before `now`: how
/// many FAILED or were BACKED_OUT, and how many there were.
async fn failure_history<C: ConnectionTrait>(
    db: &C,
    change_id: &str,
    ci_ids: &[String],
    now: DateTime<Utc>,
) -> DomainResult<(usize, usize)> {
    if ci_ids.is_empty() {
        return Ok((0, 0));
    }
    let mut on_items = Query::select();
    on_items
        .column(affected_item::Column::ChangeId)
        .from(affected_item::Entity)
        .and_where(affected_item::Column::CiId.is_in(ci_ids.iter().map(String::as_str)));
    let outcomes: Vec<Option<ChangeOutcome>> = change_request::Entity::find()
        .select_only()
        .column(change_request::Column::Outcome)
        .filter(change_request::Column::Id.in_subquery(on_items))
        .filter(change_request::Column::Id.ne(change_id))
        .filter(change_request::Column::Outcome.is_not_null())
        .filter(change_request::Column::CompletedAt.gte(now - Duration::days(FAILURE_HISTORY_DAYS)))
        .filter(change_request::Column::CompletedAt.lte(now))
        .into_tuple()
        .all(db)
        .await?;
    let failed = outcomes
        .iter()
        .filter(|outcome| outcome.is_some_and(ChangeOutcome::is_failure))
        .count();
    Ok((failed, outcomes.len()))
}

#[cfg(test)]
mod tests;
