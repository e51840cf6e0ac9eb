//! The DFMs a node has loaded, found by the namespace a flow uses for their elements.

use std::path::Path;
use std::sync::Arc;

use super::load::{LoadError, load_file};
use super::model::{Action, Dfm};

/// Loaded DFMs, by namespace and by name.
#[derive(Debug, Default, Clone)]
pub struct DfmSet {
    dfms: Vec<Arc<Dfm>>,
}

impl DfmSet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `dfm`; a DFM with the same name or namespace is an error naming both files.
    pub fn insert(&mut self, dfm: Dfm) -> Result<Arc<Dfm>, LoadError> {
        if let Some(clash) = self.dfms.iter().find(|known| {
            known.name == dfm.name || same_namespace(&known.namespace, &dfm.namespace)
        }) {
            return Err(LoadError {
                source_name: dfm.source.clone(),
                pos: None,
                message: format!(
                    "DFM '{}' ({}) has the name or namespace of DFM '{}' already loaded from {}",
                    dfm.name, dfm.namespace, clash.name, clash.source
                ),
            });
        }
        let dfm = Arc::new(dfm);
        self.dfms.push(dfm.clone());
        Ok(dfm)
    }

    /// Loads every file of `paths` (the values of the ORS `dfm` section, without `file://`).
    pub fn load_files<P: AsRef<Path>>(paths: &[P]) -> Result<Self, LoadError> {
        let mut set = DfmSet::new();
        for path in paths {
            set.insert(load_file(path.as_ref())?)?;
        }
        Ok(set)
    }

    /// The DFM whose namespace is `namespace`; the scheme and a trailing `/` are ignored, since flows write
    /// module namespaces both with and without `http://`.
    pub fn by_namespace(&self, namespace: &str) -> Option<&Arc<Dfm>> {
        self.dfms
            .iter()
            .find(|dfm| same_namespace(&dfm.namespace, namespace))
    }

    /// The DFM and action a custom element stands for: its namespace and local name. `None` when the namespace
    /// is not a loaded DFM's or the DFM has no such action (a flow using it should be refused when loaded).
    pub fn find_action(&self, namespace: &str, local_name: &str) -> Option<(&Arc<Dfm>, &Action)> {
        let dfm = self.by_namespace(namespace)?;
        let action = dfm.action(local_name)?;
        Some((dfm, action))
    }

    /// The DFM named `name` (the `name` of `<dfm>`).
    pub fn by_name(&self, name: &str) -> Option<&Arc<Dfm>> {
        self.dfms.iter().find(|dfm| dfm.name == name)
    }

    /// All loaded DFMs, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Dfm>> {
        self.dfms.iter()
    }
}

/// Compares namespaces without their scheme and trailing slash.
pub fn same_namespace(left: &str, right: &str) -> bool {
    fn bare(namespace: &str) -> &str {
        let trimmed = namespace.trim();
        let without_scheme = trimmed
            .strip_prefix("http://")
            .or_else(|| trimmed.strip_prefix("https://"))
            .unwrap_or(trimmed);
        without_scheme.trim_end_matches('/')
    }
    bare(left) == bare(right)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_elements_resolve_to_their_action() {
        let text = "<dfm name='d' namespace='http://example.com/modules/dfm/d/v1'>
          <connections><connection name='c'><servers><server host='h'/></servers></connection></connections>
          <transports><transport name='t' conntype='c'/></transports>
          <actions><action name='go' transport='t'/></actions></dfm>";
        let mut set = DfmSet::new();
        set.insert(crate::dfm::load_str(text, "d.txt").unwrap())
            .unwrap();
        let (dfm, action) = set
            .find_action("example.com/modules/dfm/d/v1", "go")
            .unwrap();
        assert_eq!((dfm.name.as_str(), action.name.as_str()), ("d", "go"));
        assert!(
            set.find_action("http://example.com/modules/dfm/d/v1", "stop")
                .is_none()
        );
        assert!(set.find_action("urn:other", "go").is_none());
    }

    #[test]
    fn namespaces_match_with_or_without_scheme() {
        assert!(same_namespace(
            "http://www.genesyslab.com/modules/dfm/gsgStorage/v1",
            "www.genesyslab.com/modules/dfm/gsgStorage/v1/"
        ));
        assert!(!same_namespace(
            "http://www.genesyslab.com/modules/dfm/gsgStorage/v1",
            "http://www.genesyslab.com/modules/dfm/gsgStorage/v2"
        ));
    }
}
