//! CAB and ECAB votes. A vote takes no version, so members voting at once never collide: each
//! vote locks the change, records itself, counts the board's standing votes and, when they
//! decide, moves the change in the same transaction. The change is decided exactly once.

use quorum_core::event::EventAction;
use quorum_core::write::{self, Loaded, Step, encode_json};
use quorum_core::{Actor, Context, DomainError, DomainResult, Permission};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use chrono::{DateTime, Utc};
use quorum_core::WriteTransaction;

use crate::change::optional_text;
use crate::entity::cab_vote::{self, Model as Vote};
use crate::entity::change_request::Model;
use crate::entity::policy::Model as ChangePolicy;
use crate::entity::{ChangeState, VoteDecision};
use crate::lifecycle::{ChangeAction, board_of, check};
use crate::policy;
use crate::snapshot::VoteSnapshot;

/// The standing votes on a change, oldest first.
pub async fn votes_of<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    change_ids: &[String],
) -> DomainResult<Vec<Vote>> {
    actor.authorize(Permission::ReadChanges)?;
    let mut votes = Vec::new();
    for batch in quorum_core::ids::batches(db, change_ids) {
        votes.extend(
            cab_vote::Entity::find()
                .filter(quorum_core::ids::one_of(
                    db,
                    cab_vote::Column::ChangeId,
                    batch,
                ))
                .order_by_asc(cab_vote::Column::CastAt)
                .order_by_asc(cab_vote::Column::Voter)
                .all(db)
                .await?,
        );
    }
    Ok(votes)
}

/// Casts (or replaces) the actor's vote on a change in CAB_REVIEW. A REJECT needs a comment.
#[tracing::instrument(skip(cx, comment))]
pub async fn cast_cab_vote(
    cx: Context<'_>,
    change_id: &str,
    decision: VoteDecision,
    comment: Option<String>,
) -> DomainResult<Model> {
    let Context { db, clock, actor } = cx;
    actor.authorize(Permission::CastCabVote)?;
    let comment = optional_text("comment", comment, 5_000)?;
    if decision == VoteDecision::Reject && comment.is_none() {
        return Err(DomainError::bad_input(
            "comment",
            "say why: a REJECT vote needs a comment",
        ));
    }
    let txn = quorum_core::begin_write(db).await?;
    // The lock serializes the votes on one change: each counts the ones before it.
    let current = write::load_row_for_write::<Model>(&txn, actor, change_id, None).await?;
    let policy = policy::current(&txn).await?;
    check(ChangeAction::Vote, &current, actor, &policy)?;
    let board = board_of(current.change_type)
        .ok_or_else(|| DomainError::Internal("a change in CAB review has no board".to_owned()))?;
    let now = clock.now();
    let previous = cab_vote::Entity::find_by_id((change_id.to_owned(), actor.subject().to_owned()))
        .one(&txn)
        .await?;
    let vote = Vote {
        change_id: change_id.to_owned(),
        voter: actor.subject().to_owned(),
        board,
        decision,
        comment,
        cast_at: now,
    };
    cab_vote::Entity::insert(cab_vote::ActiveModel::from(vote.clone()))
        .on_conflict(
            OnConflict::columns([cab_vote::Column::ChangeId, cab_vote::Column::Voter])
                .update_columns([
                    cab_vote::Column::Board,
                    cab_vote::Column::Decision,
                    cab_vote::Column::Comment,
                    cab_vote::Column::CastAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    quorum_core::event::append(
        &txn,
        actor,
        now,
        quorum_core::event::NewEvent {
            entity_kind: crate::CHANGE_EVENT_KIND,
            entity_id: change_id.to_owned(),
            action: EventAction::Voted,
            reason: vote.comment.clone(),
            before: previous
                .as_ref()
                .map(|vote| encode_json(&VoteSnapshot::of_row(vote)))
                .transpose()?,
            after: Some(encode_json(&VoteSnapshot::of_row(&vote))?),
        },
    )
    .await?;

    let result = decide(&txn, actor, current, None, &policy, now).await?;
    txn.commit().await?;
    Ok(result)
}

/// Counts the standing votes of `current`'s board and, when they decide, moves the change (in
/// the caller's transaction, which holds the change's lock): AUTHORIZED when the approvals reach
/// the quorum, REJECTED on a veto or when the rejections reach it. An EMERGENCY change is not
/// authorized before it is assessed: its approvals wait, and the assessment, when it lands,
/// decides (the ECAB can vote while the change manager assesses, and the risk of every
/// emergency change is recorded before it goes ahead).
/// `items`: the change's CI ids when the caller has them; otherwise they are read only when
/// the votes decide (a vote that decides nothing writes nothing more).
pub(crate) async fn decide(
    txn: &WriteTransaction,
    actor: &Actor,
    current: Model,
    items: Option<Vec<String>>,
    policy: &ChangePolicy,
    now: DateTime<Utc>,
) -> DomainResult<Model> {
    let Some(board) = board_of(current.change_type) else {
        return Ok(current);
    };
    if current.state != ChangeState::CabReview {
        return Ok(current);
    }
    let standing = cab_vote::Entity::find()
        .filter(cab_vote::Column::ChangeId.eq(current.id.as_str()))
        .filter(cab_vote::Column::Board.eq(board))
        .all(txn)
        .await?;
    // The requester's own vote never counts (separation of duties), unless the policy allows
    // it: a vote cast under a policy that did is not counted under one that does not.
    let counted =
        |vote: &&Vote| policy.requester_may_authorize || vote.voter != current.requested_by;
    let approvals = standing
        .iter()
        .filter(counted)
        .filter(|vote| vote.decision == VoteDecision::Approve)
        .count();
    let rejects = standing
        .iter()
        .filter(counted)
        .filter(|vote| vote.decision == VoteDecision::Reject)
        .count();
    let quorum = usize::try_from(match current.change_type {
        crate::entity::ChangeType::Emergency => policy.ecab_quorum,
        _ => policy.cab_quorum,
    })
    .unwrap_or(1);
    let assessed = current.risk_level.is_some();
    let decision = if policy.reject_vetoes && rejects > 0 {
        Some((
            ChangeState::Rejected,
            format!(
                "vetoed by a REJECT vote ({})",
                quorum_core::text::counted(rejects, "reject")
            ),
        ))
    } else if approvals >= quorum && assessed {
        Some((
            ChangeState::Authorized,
            format!(
                "{} reached the quorum of {quorum}",
                quorum_core::text::counted(approvals, "approval")
            ),
        ))
    } else if !policy.reject_vetoes && rejects >= quorum {
        Some((
            ChangeState::Rejected,
            format!(
                "{} reached the quorum of {quorum}",
                quorum_core::text::counted(rejects, "rejection")
            ),
        ))
    } else {
        None
    };
    let Some((state, reason)) = decision else {
        return Ok(current);
    };
    let loaded = match items {
        Some(extra) => Loaded {
            record: current,
            extra,
        },
        None => write::with_extra(txn, current).await?,
    };
    let updated = Loaded {
        record: Model {
            state,
            decided_at: Some(now),
            ..loaded.record.clone()
        },
        extra: loaded.extra.clone(),
    };
    let action = if state == ChangeState::Authorized {
        EventAction::Authorized
    } else {
        EventAction::Rejected
    };
    let step = Step::new(action).with_reason(Some(reason));
    write::save(txn, actor, now, step, &loaded, updated).await
}
