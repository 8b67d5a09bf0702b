//! Who is at the desk: the agent whose PIN opened the session, until the desk locks.
//!
//! The session lives in memory only (a restart means a new PIN). It locks after the idle delay
//! of [`crate::settings`]: every guarded action first calls [`DeskSession::check`], which fails
//! with [`Code::SessionLocked`] once the agent has been away too long. The UI keeps its own timer
//! too, but the rule is enforced here, where a forgotten browser timer cannot bypass it.

use jiff::{SignedDuration, Timestamp};

use crate::agents::{self, Agent, Role};
use crate::error::{Code, Error, Result};
use crate::store::Store;

#[derive(Debug, Clone)]
pub struct DeskSession {
    agent: Agent,
    last_activity: Timestamp,
}

pub fn locked() -> Error {
    Error::new(
        Code::SessionLocked,
        "Le poste est verrouillé : choisissez votre nom et saisissez votre code PIN.",
    )
}

impl DeskSession {
    /// Opens the desk for an agent whose PIN is right.
    pub fn open(store: &Store, agent_id: i64, pin: &str, now: Timestamp) -> Result<DeskSession> {
        let agent = agents::verify_pin(store, agent_id, pin, now)?;
        Ok(DeskSession::for_agent(agent, now))
    }

    /// A session for an agent just created by the first-run setup, who typed the PIN already.
    pub fn for_agent(agent: Agent, now: Timestamp) -> DeskSession {
        DeskSession {
            agent,
            last_activity: now,
        }
    }

    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    /// Whether the idle delay has passed since the last activity.
    pub fn expired(&self, now: Timestamp, idle_lock_minutes: u32) -> bool {
        now.duration_since(self.last_activity)
            > SignedDuration::from_mins(i64::from(idle_lock_minutes))
    }

    /// Records activity and returns the agent, or fails once the desk has locked itself.
    pub fn check(&mut self, now: Timestamp, idle_lock_minutes: u32) -> Result<&Agent> {
        if self.expired(now, idle_lock_minutes) {
            return Err(locked());
        }
        self.last_activity = now;
        Ok(&self.agent)
    }
}

/// Fails unless the agent may administer the installation.
pub fn require_administrator(agent: &Agent) -> Result<()> {
    if agent.role == Role::Administrateur {
        Ok(())
    } else {
        Err(Error::new(
            Code::Forbidden,
            "Cette action est réservée à un administrateur de Guichet QF.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_idle_delay_and_activity_postpones_it() {
        let agent = Agent {
            id: 1,
            name: "Émilie".into(),
            role: Role::Agent,
            active: true,
        };
        let start = Timestamp::from_second(1_795_000_000).unwrap();
        let mut session = DeskSession::for_agent(agent, start);
        let minute = SignedDuration::from_mins(1);
        assert!(session.check(start + minute * 9, 10).is_ok());
        assert!(
            session.check(start + minute * 18, 10).is_ok(),
            "activity at 9 postponed the lock"
        );
        let error = session.check(start + minute * 29, 10).unwrap_err();
        assert_eq!(error.code, Code::SessionLocked);
        assert_eq!(
            require_administrator(session.agent()).unwrap_err().code,
            Code::Forbidden
        );
    }
}
