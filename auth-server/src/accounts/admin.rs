//! User administration: what an admin may do to other accounts. The handlers
//! are in `admin_routes.rs`.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, ModelTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::accounts::entity as user;
use crate::accounts::{ip_text, validate_display_name, validate_roles, AccountError};
use crate::audit::{self, AuditEvent};
use crate::error::FieldError;
use crate::sessions;

/// One page of users, oldest first, after `cursor`, whose email or display
/// name contains `search` (case-insensitive; `None`: everyone); the next
/// cursor if there are more.
pub async fn page(
    db: &impl ConnectionTrait,
    search: Option<&str>,
    limit: u64,
    cursor: Option<Uuid>,
) -> Result<(Vec<user::Model>, Option<Uuid>), DbErr> {
    use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr};
    let mut query = user::Entity::find().order_by_asc(user::Column::Id);
    if let Some(cursor) = cursor {
        query = query.filter(user::Column::Id.gt(cursor));
    }
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        // The typed text matched literally: `%`, `_` and `\` escaped.
        let mut escaped = String::with_capacity(search.len() + 2);
        for c in search.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                escaped.push('\\');
            }
            escaped.push(c);
        }
        let pattern = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
        let lower = |column: user::Column| Expr::expr(Func::lower(Expr::col(column)));
        query = query.filter(
            sea_orm::Condition::any()
                .add(lower(user::Column::Email).like(pattern()))
                .add(lower(user::Column::DisplayName).like(pattern())),
        );
    }
    let mut rows = query.limit(limit + 1).all(db).await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|u| u.id)
    } else {
        None
    };
    Ok((rows, next_cursor))
}

/// End every session of account `id` as `operator` (a stolen device, a
/// leaving employee): refresh tokens die at once, verifiers following the
/// feed refuse the tokens of those sessions; audited `user.sessions_ended`.
/// Returns how many sessions ended.
pub async fn end_sessions(
    db: &DatabaseConnection,
    operator: Operator<'_>,
    id: Uuid,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<u64, AccountError> {
    find(db, id).await?;
    let (actor, subject) = (operator.actor(), id.to_string());
    let txn = signet_service::db::begin_write(db).await?;
    let ended =
        sessions::end_all_for_user(&txn, id, "sessions ended by an administrator", now).await?;
    audit::write(
        &txn,
        AuditEvent::new("user.sessions_ended")
            .actor(&actor)
            .subject(&subject)
            .ip(ip_text(ip).as_deref())
            .detail(serde_json::json!({ "sessions_revoked": ended })),
    )
    .await?;
    txn.commit().await?;
    Ok(ended)
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<user::Model, AccountError> {
    user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AccountError::NotFound)
}

/// What an admin changes on an account; `None` leaves a field alone.
#[derive(Debug, Default)]
pub struct UserChange {
    pub roles: Option<Vec<String>>,
    pub disabled: Option<bool>,
    /// `Some("")` clears the name.
    pub display_name: Option<String>,
    /// Require a second factor: the account sets one up at its next sign-in.
    pub mfa_required: Option<bool>,
}

/// Who administers an account: a signed-in admin over the API, or the
/// operator at the server's command line (audited as actor `cli`).
#[derive(Debug, Clone, Copy)]
pub enum Operator<'a> {
    Admin(&'a user::Model),
    CommandLine,
}

impl Operator<'_> {
    fn actor(&self) -> String {
        match self {
            Self::Admin(admin) => admin.id.to_string(),
            Self::CommandLine => "cli".to_owned(),
        }
    }

    fn is(&self, id: Uuid) -> bool {
        matches!(self, Self::Admin(admin) if admin.id == id)
    }
}

/// Apply `change` to account `id` as `operator`. Disabling ends every session of
/// the account; the change, the sessions it ends and its audit rows are one
/// transaction, and a change that changes nothing records nothing. An admin
/// cannot remove their own admin role or disable themselves.
pub async fn update_user(
    db: &DatabaseConnection,
    operator: Operator<'_>,
    id: Uuid,
    change: UserChange,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<user::Model, AccountError> {
    let user = find(db, id).await?;
    let is_self = operator.is(id);
    let (was_disabled, old_roles, was_required) =
        (user.disabled, user.role_list(), user.mfa_required);
    let mut errors = Vec::new();
    let mut active = user.into_active_model();
    if let Some(roles) = &change.roles {
        match validate_roles(roles) {
            Ok(roles) => active.roles = Set(roles),
            Err(problem) => errors.push(FieldError::new("roles", problem)),
        }
        if is_self && !roles.iter().any(|r| r == "admin") {
            errors.push(FieldError::new(
                "roles",
                "an admin cannot remove their own admin role",
            ));
        }
    }
    if let Some(disabled) = change.disabled {
        if disabled && is_self {
            errors.push(FieldError::new(
                "disabled",
                "an admin cannot disable their own account",
            ));
        }
        active.disabled = Set(disabled);
    }
    if let Some(required) = change.mfa_required {
        active.mfa_required = Set(required);
    }
    if change.display_name.is_some() {
        match validate_display_name(change.display_name.as_deref()) {
            Ok(name) => active.display_name = Set(name),
            Err(problem) => errors.push(problem.on("display_name")),
        }
    }
    if !errors.is_empty() {
        return Err(AccountError::Invalid(errors));
    }
    active.updated_at = Set(now);
    let (actor, subject, ip) = (operator.actor(), id.to_string(), ip_text(ip));
    let event = |name| {
        AuditEvent::new(name)
            .actor(&actor)
            .subject(&subject)
            .ip(ip.as_deref())
    };
    let txn = signet_service::db::begin_write(db).await?;
    let updated = active.update(&txn).await?;
    if change.disabled == Some(true) && !was_disabled {
        let ended = sessions::revoke_all_for_user(
            &txn,
            id,
            crate::events::SubjectChange::Disabled,
            "user disabled",
            now,
        )
        .await?;
        let detail = serde_json::json!({ "sessions_revoked": ended });
        audit::write(&txn, event("user.disabled").detail(detail)).await?;
    }
    if change.disabled == Some(false) && was_disabled {
        audit::write(&txn, event("user.enabled")).await?;
    }
    if updated.mfa_required != was_required {
        let name = if updated.mfa_required {
            "user.mfa_required"
        } else {
            "user.mfa_not_required"
        };
        audit::write(&txn, event(name)).await?;
    }
    if change.roles.is_some() && updated.role_list() != old_roles {
        let detail = serde_json::json!({ "roles": updated.role_list() });
        audit::write(&txn, event("user.roles_changed").detail(detail)).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Set account `id`'s password as `operator`, without the old one: the
/// operator's recovery path (a forgotten admin password). Every session of the
/// account ends (whoever knew the old password is signed out), and the new
/// hash, the ended sessions and the `password.reset` audit row are one
/// transaction. The password policy applies as at sign-up.
pub async fn reset_password(
    db: &DatabaseConnection,
    hasher: &crate::accounts::password::PasswordHasher,
    operator: Operator<'_>,
    id: Uuid,
    new: &crate::accounts::password::Password,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    let user = find(db, id).await?;
    let actor = operator.actor();
    let change = crate::accounts::NewPasswordFor {
        field: "password",
        event: "password.reset",
        actor: &actor,
        reason: "password reset by an operator",
        ip: None,
    };
    crate::accounts::set_password(db, hasher, user, new, change, now).await
}

/// Delete account `id` as `admin` (not their own: that is
/// [`delete_account`](crate::accounts::delete_account), which asks for the
/// password): sessions ended, row deleted, audit row written, one transaction.
pub async fn delete_user(
    db: &DatabaseConnection,
    admin: &user::Model,
    id: Uuid,
    ip: Option<IpAddr>,
    now: DateTime<Utc>,
) -> Result<(), AccountError> {
    if admin.id == id {
        return Err(AccountError::Invalid(vec![FieldError::new(
            "id",
            "use DELETE /api/v1/users/me to delete your own account",
        )]));
    }
    let user = find(db, id).await?;
    let (actor, subject) = (admin.id.to_string(), id.to_string());
    let txn = signet_service::db::begin_write(db).await?;
    sessions::revoke_all_for_user(
        &txn,
        id,
        crate::events::SubjectChange::Deleted,
        "user deleted",
        now,
    )
    .await?;
    user.delete(&txn).await?;
    audit::write(
        &txn,
        AuditEvent::new("user.deleted")
            .actor(&actor)
            .subject(&subject)
            .ip(ip_text(ip).as_deref()),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
