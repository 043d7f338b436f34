//! Who may do what to which organisation.
//!
//! Every web page and API route asks these functions before touching data, so
//! the tenant boundary is written once, here, and tested exhaustively. A
//! member's users never see or change another member's organisation.

use crate::account::Role;
use crate::ids::{OrgId, UserId};
use serde::Serialize;

/// The signed-in user on whose behalf a request runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    /// The member organisation the user belongs to; `None` for operators.
    pub org_id: Option<OrgId>,
}

/// A refusal, with the reason shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("only WARP operators may do this")]
    OperatorsOnly,
    #[error("you may only act on your own organisation")]
    OtherOrganisation,
    #[error("only your organisation's member lead may do this")]
    LeadsOnly,
    #[error("you may not grant the role '{0}'")]
    RoleNotGrantable(&'static str),
    #[error("you may not change your own account this way")]
    SelfAction,
    #[error("only the member's own users may change this; operators can view it")]
    MembersOnly,
}

type Allowed = Result<(), Denied>;

impl Actor {
    pub fn is_operator(&self) -> bool {
        self.role == Role::Operator
    }

    /// Operator-only areas: the organisation list, fees, the audit log.
    pub fn require_operator(&self) -> Allowed {
        if self.is_operator() {
            Ok(())
        } else {
            Err(Denied::OperatorsOnly)
        }
    }

    /// Seeing an organisation's page and its list of named users.
    pub fn can_view_org(&self, org: OrgId) -> Allowed {
        if self.is_operator() || self.org_id == Some(org) {
            Ok(())
        } else {
            Err(Denied::OtherOrganisation)
        }
    }

    /// Seeing a user that belongs to `org` (`None` = the operator team).
    pub fn can_view_org_opt(&self, org: Option<OrgId>) -> Allowed {
        match org {
            Some(o) => self.can_view_org(o),
            None => self.require_operator(),
        }
    }

    /// Creating organisations, changing type, fee basis, status and renewal.
    pub fn can_edit_membership(&self) -> Allowed {
        self.require_operator()
    }

    /// Changing a member's inventory, suppliers and exposure statuses: the
    /// member's own lead and users. Operators see them (via [`Actor::can_view_org`])
    /// but do not change what a member runs or how it responds.
    pub fn can_edit_member_records(&self, org: OrgId) -> Allowed {
        if self.is_operator() {
            Err(Denied::MembersOnly)
        } else if self.org_id == Some(org) {
            Ok(())
        } else {
            Err(Denied::OtherOrganisation)
        }
    }

    /// Changing an organisation's governance contacts.
    pub fn can_edit_governance(&self, org: OrgId) -> Allowed {
        self.can_manage_users(org)
    }

    /// Inviting, disabling and resetting named users of `org`.
    pub fn can_manage_users(&self, org: OrgId) -> Allowed {
        match self.role {
            Role::Operator => Ok(()),
            Role::MemberLead if self.org_id == Some(org) => Ok(()),
            Role::MemberLead => Err(Denied::OtherOrganisation),
            Role::MemberUser if self.org_id == Some(org) => Err(Denied::LeadsOnly),
            Role::MemberUser => Err(Denied::OtherOrganisation),
        }
    }

    /// Inviting someone with `role` into `org` (`None` = the WARP's own operator team).
    pub fn can_invite(&self, org: Option<OrgId>, role: Role) -> Allowed {
        match (org, role) {
            (None, Role::Operator) => self.require_operator(),
            (None, r) => Err(Denied::RoleNotGrantable(r.as_str())),
            (Some(_), Role::Operator) => Err(Denied::RoleNotGrantable(Role::Operator.as_str())),
            (Some(o), Role::MemberLead | Role::MemberUser) => self.can_manage_users(o),
        }
    }

    /// Disabling, re-enabling or resetting the password of another user.
    /// Whether this actor may give `target` (of `target_org`) the role
    /// `new_role`: whoever administers the user, only between member roles,
    /// never for themselves. Operators are made by invitation only.
    pub fn can_set_role(
        &self,
        target: UserId,
        target_role: Role,
        target_org: Option<OrgId>,
        new_role: Role,
    ) -> Allowed {
        self.can_administer_user(target, target_role, target_org)?;
        if target_org.is_none() || new_role == Role::Operator {
            return Err(Denied::RoleNotGrantable(new_role.as_str()));
        }
        Ok(())
    }

    pub fn can_administer_user(
        &self,
        target: UserId,
        target_role: Role,
        target_org: Option<OrgId>,
    ) -> Allowed {
        if target == self.user_id {
            return Err(Denied::SelfAction);
        }
        match target_org {
            None => {
                // Only operators administer operators.
                let _ = target_role;
                self.require_operator()
            }
            Some(org) => self.can_manage_users(org),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: OrgId = OrgId(1);
    const B: OrgId = OrgId(2);

    fn op() -> Actor {
        Actor {
            user_id: UserId(1),
            role: Role::Operator,
            org_id: None,
        }
    }
    fn lead(org: OrgId) -> Actor {
        Actor {
            user_id: UserId(10 + org.0),
            role: Role::MemberLead,
            org_id: Some(org),
        }
    }
    fn user(org: OrgId) -> Actor {
        Actor {
            user_id: UserId(20 + org.0),
            role: Role::MemberUser,
            org_id: Some(org),
        }
    }

    /// The full matrix: every role against its own and a foreign organisation.
    #[test]
    fn view_and_manage_matrix() {
        let cases: [(Actor, OrgId, bool, bool); 5] = [
            (op(), A, true, true),
            (lead(A), A, true, true),
            (lead(A), B, false, false),
            (user(A), A, true, false),
            (user(A), B, false, false),
        ];
        for (actor, org, view, manage) in cases {
            assert_eq!(
                actor.can_view_org(org).is_ok(),
                view,
                "{actor:?} view {org}"
            );
            assert_eq!(
                actor.can_manage_users(org).is_ok(),
                manage,
                "{actor:?} manage {org}"
            );
            assert_eq!(actor.can_edit_governance(org).is_ok(), manage);
        }
        assert_eq!(user(A).can_manage_users(A), Err(Denied::LeadsOnly));
        assert_eq!(lead(A).can_manage_users(B), Err(Denied::OtherOrganisation));
    }

    #[test]
    fn member_records_are_changed_by_the_members_own_users_only() {
        assert!(lead(A).can_edit_member_records(A).is_ok());
        assert!(user(A).can_edit_member_records(A).is_ok());
        assert_eq!(
            user(A).can_edit_member_records(B),
            Err(Denied::OtherOrganisation)
        );
        assert_eq!(op().can_edit_member_records(A), Err(Denied::MembersOnly));
        assert!(op().can_view_org(A).is_ok());
    }

    #[test]
    fn operator_team_is_visible_to_operators_only() {
        assert!(op().can_view_org_opt(None).is_ok());
        assert!(lead(A).can_view_org_opt(None).is_err());
        assert!(lead(A).can_view_org_opt(Some(A)).is_ok());
        assert!(user(A).can_view_org_opt(Some(B)).is_err());
    }

    #[test]
    fn only_operators_edit_membership() {
        assert!(op().can_edit_membership().is_ok());
        assert_eq!(lead(A).can_edit_membership(), Err(Denied::OperatorsOnly));
        assert_eq!(user(A).require_operator(), Err(Denied::OperatorsOnly));
    }

    #[test]
    fn invitation_rules() {
        assert!(op().can_invite(Some(A), Role::MemberLead).is_ok());
        assert!(op().can_invite(None, Role::Operator).is_ok());
        assert!(lead(A).can_invite(Some(A), Role::MemberUser).is_ok());
        assert!(lead(A).can_invite(Some(A), Role::MemberLead).is_ok());
        assert_eq!(
            lead(A).can_invite(Some(B), Role::MemberUser),
            Err(Denied::OtherOrganisation)
        );
        assert_eq!(
            lead(A).can_invite(None, Role::Operator),
            Err(Denied::OperatorsOnly)
        );
        assert_eq!(
            user(A).can_invite(Some(A), Role::MemberUser),
            Err(Denied::LeadsOnly)
        );
        assert!(op().can_invite(Some(A), Role::Operator).is_err());
        assert!(op().can_invite(None, Role::MemberUser).is_err());
    }

    #[test]
    fn administering_users() {
        let target_in_a = UserId(99);
        assert!(
            lead(A)
                .can_administer_user(target_in_a, Role::MemberUser, Some(A))
                .is_ok()
        );
        assert!(
            lead(A)
                .can_administer_user(target_in_a, Role::MemberUser, Some(B))
                .is_err()
        );
        assert!(
            lead(A)
                .can_administer_user(UserId(1), Role::Operator, None)
                .is_err()
        );
        assert!(
            op().can_administer_user(UserId(2), Role::Operator, None)
                .is_ok()
        );
        let me = lead(A);
        assert_eq!(
            me.can_administer_user(me.user_id, Role::MemberLead, Some(A)),
            Err(Denied::SelfAction)
        );
    }

    #[test]
    fn roles_change_between_member_roles_by_whoever_administers_the_user() {
        let lead_a = Actor {
            user_id: UserId(10),
            role: Role::MemberLead,
            org_id: Some(A),
        };
        let op = Actor {
            user_id: UserId(1),
            role: Role::Operator,
            org_id: None,
        };
        let user_a = UserId(11);
        assert!(
            lead_a
                .can_set_role(user_a, Role::MemberUser, Some(A), Role::MemberLead)
                .is_ok()
        );
        assert!(
            op.can_set_role(user_a, Role::MemberLead, Some(A), Role::MemberUser)
                .is_ok()
        );
        assert_eq!(
            lead_a.can_set_role(UserId(20), Role::MemberUser, Some(B), Role::MemberLead),
            Err(Denied::OtherOrganisation)
        );
        assert_eq!(
            lead_a.can_set_role(UserId(10), Role::MemberLead, Some(A), Role::MemberUser),
            Err(Denied::SelfAction)
        );
        assert_eq!(
            op.can_set_role(user_a, Role::MemberUser, Some(A), Role::Operator),
            Err(Denied::RoleNotGrantable("operator"))
        );
        assert_eq!(
            op.can_set_role(UserId(2), Role::Operator, None, Role::MemberLead),
            Err(Denied::RoleNotGrantable("member_lead"))
        );
    }
}
