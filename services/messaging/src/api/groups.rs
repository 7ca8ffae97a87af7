//! Group conversations: a title, up to 100 members, and admins who add and
//! remove members and name other admins. Anyone may leave; a group is never
//! left without an admin (the longest-standing member takes over). Nobody
//! is added by someone they blocked. Every member's feed hears of changes.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_proto::messaging::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::conversations::view;
use super::{caller, membership, parse_two};
use crate::Inner;
use crate::domain::{ConversationId, ConversationKind};
use crate::error::Result;
use crate::hub::Live;
use crate::store::{self, ConversationRow, MemberRow, NewConversation};
use frevix_platform::ids::parse_uuid;

/// Members a group may have, its creator included.
const MAX_MEMBERS: usize = 100;

/// The accounts of `ids`, each once; what is wrong joins `violations`.
fn parse_accounts(
    field: &str,
    ids: &[String],
    me: Uuid,
    max: usize,
    violations: &mut FieldViolations,
) -> Vec<Uuid> {
    let mut accounts = Vec::new();
    if ids.is_empty() || ids.len() > max {
        // Refused whole: the entries of an oversized list are not read.
        violations.add(field, format!("must list 1 to {max} accounts"));
        return accounts;
    }
    for (i, id) in ids.iter().enumerate() {
        let field = format!("{field}[{i}]");
        if let Some(account) = frevix_platform::ids::parse_uuid(&field, id, violations) {
            if account == me {
                violations.add(&field, "you are in the group already");
            } else if !accounts.contains(&account) {
                accounts.push(account);
            }
        }
    }
    accounts
}

/// FAILED_PRECONDITION when one of `accounts` blocked `me`, or has not
/// talked with `me` (being put in a stranger's group needs consent: talk
/// first, in a direct conversation).
async fn check_may_add(inner: &Inner, me: Uuid, accounts: &[Uuid]) -> Result<()> {
    if let Some(blocker) = store::safety::who_blocked(&inner.db, accounts, me)
        .await?
        .first()
    {
        return Err(ApiError::precondition(
            "BLOCKED",
            blocker.to_string(),
            "this account does not accept being added to groups by you",
        )
        .into());
    }
    let contacts =
        store::contacts::talked_with(&inner.db, me, Some(accounts), accounts.len()).await?;
    if let Some(stranger) = accounts.iter().find(|a| !contacts.contains(a)) {
        return Err(ApiError::precondition(
            "NOT_A_CONTACT",
            stranger.to_string(),
            "you can add only people you have talked with; message them directly first",
        )
        .into());
    }
    Ok(())
}

/// The group and the caller's membership, if the caller administers it.
async fn administered(
    inner: &Inner,
    conversation: ConversationId,
    me: Uuid,
) -> Result<(ConversationRow, MemberRow)> {
    let (row, member) = membership(inner, conversation, me).await?;
    if ConversationKind::parse(&row.kind) != ConversationKind::Group {
        return Err(ApiError::precondition(
            "NOT_A_GROUP",
            "conversation_id",
            "only group conversations have admins and changing members",
        )
        .into());
    }
    if !member.admin {
        return Err(ApiError::permission_denied(
            "NOT_GROUP_ADMIN",
            "only the group's admins can do this",
        )
        .into());
    }
    Ok((row, member))
}

/// Tells every member the group's new state, and `removed` that they left.
async fn announce(inner: &Inner, conversation: ConversationId, removed: &[Uuid]) -> Result<()> {
    // Sends are checked against the members from now on.
    inner.facts.forget(conversation).await;
    let Some(row) = store::find_conversation(&inner.db, conversation).await? else {
        return Ok(());
    };
    let members = store::members_of(&inner.db, vec![conversation]).await?;
    let last = store::message_at(&inner.db, conversation, row.last_seq).await?;
    for member in &members {
        let view = crate::convert::conversation(&row, &members, member, last.as_ref());
        inner
            .hub
            .publish(
                &[member.account_id],
                Live::Conversation(pb::ConversationChanged {
                    conversation: Some(view),
                    removed: false,
                }),
            )
            .await;
    }
    let mut gone = pb::Conversation {
        id: conversation.to_string(),
        kind: pb::ConversationKind::Group as i32,
        title: row.title.clone(),
        ..Default::default()
    };
    gone.member_ids = members.iter().map(|m| m.account_id.to_string()).collect();
    inner
        .hub
        .publish(
            removed,
            Live::Conversation(pb::ConversationChanged {
                conversation: Some(gone),
                removed: true,
            }),
        )
        .await;
    Ok(())
}

pub async fn create(
    inner: &Inner,
    request: Request<pb::CreateGroupConversationRequest>,
) -> Result<pb::CreateGroupConversationResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let title = req.title.trim();
    let mut violations = FieldViolations::new();
    if title.is_empty() || title.chars().count() > 200 {
        violations.add("title", "must be 1 to 200 characters");
    } else if let Some(problem) = frevix_platform::text::label_problem(title) {
        violations.add("title", problem);
    }
    let others = parse_accounts(
        "member_ids",
        &req.member_ids,
        me,
        MAX_MEMBERS - 1,
        &mut violations,
    );
    violations.finish(())?;
    check_may_add(inner, me, &others).await?;
    // Counted once the group would be made (refused requests cost nothing).
    inner
        .groups
        .check(&me.to_string())
        .map_err(ApiError::RateLimited)?;
    let mut members = vec![me];
    members.extend(&others);
    let txn = Txn::begin(&inner.db).await?;
    let row = store::insert_conversation(
        &txn,
        NewConversation {
            kind: ConversationKind::Group,
            direct_key: None,
            contract_id: None,
            title: title.to_owned(),
            members: &members,
            admins: &[me],
        },
        Utc::now(),
    )
    .await?;
    txn.commit().await?;
    announce(inner, row.typed_id(), &[]).await?;
    let mut views = view(inner, &[row], me).await?;
    Ok(pb::CreateGroupConversationResponse {
        conversation: views.pop(),
    })
}

pub async fn add(
    inner: &Inner,
    request: Request<pb::AddMembersRequest>,
) -> Result<pb::AddMembersResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let conversation = parse_uuid("conversation_id", &req.conversation_id, &mut violations);
    let accounts = parse_accounts(
        "account_ids",
        &req.account_ids,
        me,
        MAX_MEMBERS - 1,
        &mut violations,
    );
    let conversation = ConversationId::from(
        violations
            .finish(conversation)?
            .ok_or(ApiError::NotFound("conversation"))?,
    );
    let (row, _) = administered(inner, conversation, me).await?;
    let current: Vec<Uuid> = store::member_ids(&inner.db, conversation).await?;
    let new: Vec<Uuid> = accounts
        .into_iter()
        .filter(|account| !current.contains(account))
        .collect();
    if current.len() + new.len() > MAX_MEMBERS {
        return Err(ApiError::precondition(
            "GROUP_FULL",
            "account_ids",
            format!("a group has at most {MAX_MEMBERS} members"),
        )
        .into());
    }
    check_may_add(inner, me, &new).await?;
    if !new.is_empty() {
        let txn = Txn::begin(&inner.db).await?;
        let now = Utc::now();
        for account in &new {
            store::add_member(&txn, conversation, *account, false, row.last_seq, now).await?;
        }
        txn.commit().await?;
        announce(inner, conversation, &[]).await?;
    }
    let row = store::find_conversation(&inner.db, conversation)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    let mut views = view(inner, &[row], me).await?;
    Ok(pb::AddMembersResponse {
        conversation: views.pop(),
    })
}

pub async fn remove(
    inner: &Inner,
    request: Request<pb::RemoveMemberRequest>,
) -> Result<pb::RemoveMemberResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let (conversation, account) = parse_two(
        ("conversation_id", &req.conversation_id),
        ("account_id", &req.account_id),
    )?;
    if account != me {
        administered(inner, conversation, me).await?;
    } else {
        let (row, _) = membership(inner, conversation, me).await?;
        if ConversationKind::parse(&row.kind) != ConversationKind::Group {
            return Err(ApiError::precondition(
                "NOT_A_GROUP",
                "conversation_id",
                "only group conversations can be left; archive this one instead",
            )
            .into());
        }
    }
    let members = store::members_of(&inner.db, vec![conversation]).await?;
    let Some(target) = members.iter().find(|m| m.account_id == account) else {
        return Err(ApiError::precondition(
            "NOT_A_MEMBER",
            "account_id",
            "that account is not a member of the group",
        )
        .into());
    };
    let txn = Txn::begin(&inner.db).await?;
    store::remove_member(&txn, conversation, account).await?;
    let admins_left = members.iter().any(|m| m.admin && m.account_id != account);
    if target.admin && !admins_left {
        // The longest-standing remaining member takes over.
        if let Some(heir) = members
            .iter()
            .filter(|m| m.account_id != account)
            .min_by_key(|m| m.joined_at)
        {
            store::set_admin(&txn, conversation, heir.account_id, true).await?;
        }
    }
    txn.commit().await?;
    announce(inner, conversation, &[account]).await?;
    Ok(pb::RemoveMemberResponse {})
}

pub async fn set_admin(
    inner: &Inner,
    request: Request<pb::SetAdminRequest>,
) -> Result<pb::SetAdminResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let (conversation, account) = parse_two(
        ("conversation_id", &req.conversation_id),
        ("account_id", &req.account_id),
    )?;
    administered(inner, conversation, me).await?;
    let members = store::members_of(&inner.db, vec![conversation]).await?;
    if !members.iter().any(|m| m.account_id == account) {
        return Err(ApiError::precondition(
            "NOT_A_MEMBER",
            "account_id",
            "that account is not a member of the group",
        )
        .into());
    }
    if !req.admin && !members.iter().any(|m| m.admin && m.account_id != account) {
        return Err(ApiError::precondition(
            "LAST_ADMIN",
            "account_id",
            "a group needs an admin; make someone else admin first",
        )
        .into());
    }
    store::set_admin(&inner.db, conversation, account, req.admin).await?;
    announce(inner, conversation, &[]).await?;
    let row = store::find_conversation(&inner.db, conversation)
        .await?
        .ok_or(ApiError::NotFound("conversation"))?;
    let mut views = view(inner, &[row], me).await?;
    Ok(pb::SetAdminResponse {
        conversation: views.pop(),
    })
}
