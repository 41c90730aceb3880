//! The fund's classification policy (DOMAIN.md §8): debt-group thresholds and provision rates from
//! the `[classification]` configuration.
//!
//! Classification is needed deep inside every money command, the close of business, `ledger
//! verify` and the reports; rather than thread one more argument through all of them, the policy is
//! installed once per process when its state is built ([`crate::state::AppState::new`]) and read
//! here. It is configuration, fixed for the life of the process; until installed, the legal
//! defaults apply (Circular 14/2024, Decree 86/2024).

use std::sync::{Arc, RwLock};

use coopfund_domain::{ClassificationConfig, ProvisionRates};

use crate::config::ClassificationSettings;

/// Thresholds and rates in force.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub classification: ClassificationConfig,
    pub provision_rates: ProvisionRates,
}

impl Policy {
    /// The policy configured in `[classification]`.
    pub fn from_settings(settings: &ClassificationSettings) -> Self {
        Policy {
            classification: settings.classification(),
            provision_rates: settings.provision_rates(),
        }
    }
}

static POLICY: RwLock<Option<Arc<Policy>>> = RwLock::new(None);

/// Installs the policy of `settings` for this process.
pub fn install(settings: &ClassificationSettings) {
    let policy = Arc::new(Policy {
        classification: settings.classification(),
        provision_rates: settings.provision_rates(),
    });
    let mut slot = POLICY
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *slot = Some(policy);
}

/// The policy in force (the legal defaults until one is installed).
pub fn current() -> Arc<Policy> {
    let slot = POLICY
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    slot.clone().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_thresholds_and_rates_are_the_ones_in_force() {
        let mut settings = crate::config::Settings::load(None).unwrap().classification;
        assert_eq!(settings.classification().group_3_from_dpd, 30);
        settings.group_from_dpd = [5, 20, 60, 120];
        settings.general_provision_percent = "0.75".into();
        install(&settings);
        assert_eq!(current().classification.group_2_from_dpd, 5);
        assert_eq!(
            current().provision_rates.general_percent.to_string(),
            "0.75"
        );
        install(&crate::config::Settings::load(None).unwrap().classification);
        assert_eq!(current().classification.group_2_from_dpd, 10);
    }
}
