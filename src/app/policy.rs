//! The fund's classification policy (DOMAIN.md §8): debt-group thresholds and provision rates from
//! the `[classification]` configuration.
//!
//! The policy is held by the use cases' context ([`crate::app::context::AppCtx::policy`]), built
//! from the settings with [`Policy::from_settings`]: two apps in one process keep their own.
//! There is no process-wide policy: a use case reads the one in its context.

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

#[cfg(test)]
mod tests {
    use super::*;

    // Built from the settings, never through the process-wide slot: a test that installed a policy
    // would change it for every other test of the binary running beside it.
    #[test]
    fn the_configured_thresholds_and_rates_are_the_ones_in_force() {
        let mut settings = crate::config::Settings::load(None).unwrap().classification;
        assert_eq!(
            Policy::from_settings(&settings)
                .classification
                .group_3_from_dpd,
            30
        );
        settings.group_from_dpd = [5, 20, 60, 120];
        settings.general_provision_percent = "0.75".into();
        let policy = Policy::from_settings(&settings);
        assert_eq!(policy.classification.group_2_from_dpd, 5);
        assert_eq!(policy.provision_rates.general_percent.to_string(), "0.75");
    }
}
