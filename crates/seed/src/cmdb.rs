//! Data to start from: a small, realistic demo estate for `serve --dev`, and a deterministic
//! generator of large topologies for benchmarks (`quorum seed --scale N --seed S`). Both are
//! plain [`ImportInput`]s, written through the import.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

use quorum_cmdb::entity::{CiClass, CiStatus, Environment, RelationshipType};
use quorum_cmdb::{ImportInput, ImportItem, ImportRelationship};

fn item(
    class: CiClass,
    name: &str,
    criticality: i32,
    team: &str,
    attributes: serde_json::Value,
) -> ImportItem {
    ImportItem {
        class,
        name: name.to_owned(),
        status: Some(CiStatus::InService),
        environment: Environment::Production,
        criticality,
        owner_team: Some(team.to_owned()),
        description: None,
        attributes: Some(attributes),
    }
}

fn link(
    source: (CiClass, &str),
    relationship_type: RelationshipType,
    target: (CiClass, &str),
) -> ImportRelationship {
    ImportRelationship {
        source_class: source.0,
        source_name: source.1.to_owned(),
        relationship_type,
        target_class: target.0,
        target_name: target.1.to_owned(),
    }
}

/// A small bank's estate: three business services, their applications, databases, VMs, two
/// hypervisor hosts, the network and the storage array they share.
pub fn demo() -> ImportInput {
    use CiClass::*;
    use RelationshipType::*;
    let items = vec![
        item(
            BusinessService,
            "Online Banking",
            1,
            "Digital Channels",
            json!({ "customers": 1_200_000 }),
        ),
        item(
            BusinessService,
            "Card Payments",
            1,
            "Payments",
            json!({ "pci": true }),
        ),
        item(
            BusinessService,
            "Customer Support",
            2,
            "Service Desk",
            json!({}),
        ),
        item(
            Application,
            "Banking Web App",
            1,
            "Digital Channels",
            json!({ "language": "TypeScript" }),
        ),
        item(
            Application,
            "Payments API",
            1,
            "Payments",
            json!({ "language": "Rust" }),
        ),
        item(
            Application,
            "Card Authorization Service",
            1,
            "Payments",
            json!({ "language": "Java" }),
        ),
        item(
            Application,
            "Support Portal",
            3,
            "Service Desk",
            json!({ "vendor": "in-house" }),
        ),
        item(
            Application,
            "Identity Provider",
            1,
            "Platform",
            json!({ "product": "Keycloak" }),
        ),
        item(
            Database,
            "banking-db",
            1,
            "Data Platform",
            json!({ "engine": "PostgreSQL 16" }),
        ),
        item(
            Database,
            "payments-db",
            1,
            "Data Platform",
            json!({ "engine": "PostgreSQL 16" }),
        ),
        item(
            Database,
            "support-db",
            3,
            "Data Platform",
            json!({ "engine": "MariaDB 10.11" }),
        ),
        item(
            VirtualMachine,
            "vm-web-01",
            2,
            "Platform",
            json!({ "vcpu": 4, "memoryGiB": 16 }),
        ),
        item(
            VirtualMachine,
            "vm-web-02",
            2,
            "Platform",
            json!({ "vcpu": 4, "memoryGiB": 16 }),
        ),
        item(
            VirtualMachine,
            "vm-api-01",
            1,
            "Platform",
            json!({ "vcpu": 8, "memoryGiB": 32 }),
        ),
        item(
            VirtualMachine,
            "vm-db-01",
            1,
            "Platform",
            json!({ "vcpu": 16, "memoryGiB": 128 }),
        ),
        item(
            VirtualMachine,
            "vm-db-02",
            1,
            "Platform",
            json!({ "vcpu": 16, "memoryGiB": 128 }),
        ),
        item(
            VirtualMachine,
            "vm-idp-01",
            1,
            "Platform",
            json!({ "vcpu": 4, "memoryGiB": 8 }),
        ),
        item(
            Server,
            "esx-host-01",
            1,
            "Infrastructure",
            json!({ "model": "Dell R760" }),
        ),
        item(
            Server,
            "esx-host-02",
            1,
            "Infrastructure",
            json!({ "model": "Dell R760" }),
        ),
        item(
            NetworkDevice,
            "core-switch-01",
            1,
            "Network",
            json!({ "model": "Arista 7050X" }),
        ),
        item(
            NetworkDevice,
            "edge-firewall-01",
            1,
            "Network",
            json!({ "model": "FortiGate 600F" }),
        ),
        item(
            Storage,
            "san-array-01",
            1,
            "Infrastructure",
            json!({ "capacityTiB": 200 }),
        ),
    ];
    let relationships = vec![
        link(
            (BusinessService, "Online Banking"),
            DependsOn,
            (Application, "Banking Web App"),
        ),
        link(
            (BusinessService, "Online Banking"),
            DependsOn,
            (Application, "Identity Provider"),
        ),
        link(
            (BusinessService, "Card Payments"),
            DependsOn,
            (Application, "Payments API"),
        ),
        link(
            (BusinessService, "Card Payments"),
            DependsOn,
            (Application, "Card Authorization Service"),
        ),
        link(
            (BusinessService, "Customer Support"),
            DependsOn,
            (Application, "Support Portal"),
        ),
        link(
            (Application, "Banking Web App"),
            DependsOn,
            (Application, "Payments API"),
        ),
        link(
            (Application, "Banking Web App"),
            DependsOn,
            (Database, "banking-db"),
        ),
        link(
            (Application, "Payments API"),
            DependsOn,
            (Database, "payments-db"),
        ),
        link(
            (Application, "Card Authorization Service"),
            DependsOn,
            (Database, "payments-db"),
        ),
        link(
            (Application, "Support Portal"),
            DependsOn,
            (Database, "support-db"),
        ),
        link(
            (Application, "Support Portal"),
            DependsOn,
            (Application, "Identity Provider"),
        ),
        link(
            (Application, "Banking Web App"),
            RunsOn,
            (VirtualMachine, "vm-web-01"),
        ),
        link(
            (Application, "Banking Web App"),
            RunsOn,
            (VirtualMachine, "vm-web-02"),
        ),
        link(
            (Application, "Support Portal"),
            RunsOn,
            (VirtualMachine, "vm-web-02"),
        ),
        link(
            (Application, "Payments API"),
            RunsOn,
            (VirtualMachine, "vm-api-01"),
        ),
        link(
            (Application, "Card Authorization Service"),
            RunsOn,
            (VirtualMachine, "vm-api-01"),
        ),
        link(
            (Application, "Identity Provider"),
            RunsOn,
            (VirtualMachine, "vm-idp-01"),
        ),
        link(
            (Database, "banking-db"),
            RunsOn,
            (VirtualMachine, "vm-db-01"),
        ),
        link(
            (Database, "payments-db"),
            RunsOn,
            (VirtualMachine, "vm-db-02"),
        ),
        link(
            (Database, "support-db"),
            RunsOn,
            (VirtualMachine, "vm-db-01"),
        ),
        link(
            (VirtualMachine, "vm-web-01"),
            HostedOn,
            (Server, "esx-host-01"),
        ),
        link(
            (VirtualMachine, "vm-web-02"),
            HostedOn,
            (Server, "esx-host-02"),
        ),
        link(
            (VirtualMachine, "vm-api-01"),
            HostedOn,
            (Server, "esx-host-01"),
        ),
        link(
            (VirtualMachine, "vm-db-01"),
            HostedOn,
            (Server, "esx-host-02"),
        ),
        link(
            (VirtualMachine, "vm-db-02"),
            HostedOn,
            (Server, "esx-host-01"),
        ),
        link(
            (VirtualMachine, "vm-idp-01"),
            HostedOn,
            (Server, "esx-host-02"),
        ),
        link(
            (Server, "esx-host-01"),
            ConnectsTo,
            (NetworkDevice, "core-switch-01"),
        ),
        link(
            (Server, "esx-host-02"),
            ConnectsTo,
            (NetworkDevice, "core-switch-01"),
        ),
        link(
            (NetworkDevice, "core-switch-01"),
            ConnectsTo,
            (NetworkDevice, "edge-firewall-01"),
        ),
        link(
            (Server, "esx-host-01"),
            DependsOn,
            (Storage, "san-array-01"),
        ),
        link(
            (Server, "esx-host-02"),
            DependsOn,
            (Storage, "san-array-01"),
        ),
    ];
    ImportInput {
        items,
        relationships,
    }
}

/// A deterministic topology of about `size` CIs (the same `seed` gives the same estate):
/// business services → applications → databases and VMs or containers → hypervisor hosts,
/// with shared network devices and storage, cross-links between applications, and a few
/// cycles. About four relationships per CI. A handful of databases are depended on by many
/// applications, as in real estates.
pub fn scale(size: usize, seed: u64) -> ImportInput {
    use CiClass::*;
    use RelationshipType::*;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let share = |percent: usize| (size * percent / 100).max(1);
    let counts = [
        (BusinessService, "service", share(1)),
        (Application, "app", share(10)),
        (Database, "db", share(5)),
        (Container, "ctr", share(20)),
        (Server, "host", share(15)),
        (NetworkDevice, "net", share(5)),
        (Storage, "stor", share(4)),
        (CloudResource, "cloud", share(5)),
    ];
    let fixed: usize = counts.iter().map(|(_, _, count)| count).sum();
    let vms = size.saturating_sub(fixed).max(1);
    let name = |prefix: &str, index: usize| format!("{prefix}-{index:06}");

    let mut items = Vec::with_capacity(size);
    for (class, prefix, count) in counts.iter().copied().chain([(VirtualMachine, "vm", vms)]) {
        for index in 0..count {
            let criticality = rng.random_range(1..=4);
            let environment = match rng.random_range(0..10) {
                0 => Environment::Staging,
                1 => Environment::Test,
                _ => Environment::Production,
            };
            items.push(ImportItem {
                class,
                name: name(prefix, index),
                status: Some(CiStatus::InService),
                environment,
                criticality,
                owner_team: Some(format!("team-{:02}", rng.random_range(0..40))),
                description: None,
                attributes: Some(json!({ "generated": true, "seed": seed })),
            });
        }
    }
    let count_of = |class: CiClass| {
        if class == VirtualMachine {
            vms
        } else {
            counts
                .iter()
                .find(|(c, _, _)| *c == class)
                .map_or(0, |(_, _, count)| *count)
        }
    };
    let prefix_of = |class: CiClass| match class {
        BusinessService => "service",
        Application => "app",
        Database => "db",
        Container => "ctr",
        Server => "host",
        NetworkDevice => "net",
        Storage => "stor",
        CloudResource => "cloud",
        VirtualMachine | Other => "vm",
    };
    let mut relationships = Vec::with_capacity(size * 4);
    let mut add = |source: (CiClass, usize), relationship_type, target: (CiClass, usize)| {
        if source != target {
            relationships.push(ImportRelationship {
                source_class: source.0,
                source_name: name(prefix_of(source.0), source.1),
                relationship_type,
                target_class: target.0,
                target_name: name(prefix_of(target.0), target.1),
            });
        }
    };
    // A skewed pick: low indexes are chosen far more often (hot shared components).
    let skewed = |rng: &mut ChaCha8Rng, count: usize| {
        let r: f64 = rng.random();
        ((r * r * r) * count as f64) as usize % count
    };
    let uniform = |rng: &mut ChaCha8Rng, count: usize| rng.random_range(0..count);
    let distinct = |rng: &mut ChaCha8Rng,
                    count: usize,
                    wanted: usize,
                    pick: &dyn Fn(&mut ChaCha8Rng, usize) -> usize| {
        let mut chosen = std::collections::BTreeSet::new();
        for _ in 0..wanted * 3 {
            if chosen.len() >= wanted.min(count) {
                break;
            }
            chosen.insert(pick(rng, count));
        }
        chosen
    };

    for service in 0..count_of(BusinessService) {
        for app in distinct(&mut rng, count_of(Application), 20, &uniform) {
            add((BusinessService, service), DependsOn, (Application, app));
        }
    }
    for app in 0..count_of(Application) {
        for db in distinct(&mut rng, count_of(Database), 2, &skewed) {
            add((Application, app), DependsOn, (Database, db));
        }
        for other in distinct(&mut rng, count_of(Application), 2, &uniform) {
            add((Application, app), DependsOn, (Application, other));
        }
        for ctr in distinct(&mut rng, count_of(Container), 2, &uniform) {
            add((Application, app), RunsOn, (Container, ctr));
        }
        for vm in distinct(&mut rng, vms, 2, &uniform) {
            add((Application, app), RunsOn, (VirtualMachine, vm));
        }
        if rng.random_range(0..4) == 0 {
            add(
                (Application, app),
                DependsOn,
                (CloudResource, uniform(&mut rng, count_of(CloudResource))),
            );
        }
    }
    for db in 0..count_of(Database) {
        add(
            (Database, db),
            RunsOn,
            (VirtualMachine, uniform(&mut rng, vms)),
        );
        add(
            (Database, db),
            DependsOn,
            (Storage, skewed(&mut rng, count_of(Storage))),
        );
        // A few databases call back into an application: cycles the walks must survive.
        if rng.random_range(0..50) == 0 {
            add(
                (Database, db),
                DependsOn,
                (Application, uniform(&mut rng, count_of(Application))),
            );
        }
    }
    for ctr in 0..count_of(Container) {
        add(
            (Container, ctr),
            RunsOn,
            (VirtualMachine, uniform(&mut rng, vms)),
        );
        add(
            (Container, ctr),
            MemberOf,
            (CloudResource, uniform(&mut rng, count_of(CloudResource))),
        );
        add(
            (Container, ctr),
            ConnectsTo,
            (NetworkDevice, skewed(&mut rng, count_of(NetworkDevice))),
        );
    }
    for vm in 0..vms {
        add(
            (VirtualMachine, vm),
            HostedOn,
            (Server, uniform(&mut rng, count_of(Server))),
        );
        for net in distinct(&mut rng, count_of(NetworkDevice), 2, &skewed) {
            add((VirtualMachine, vm), ConnectsTo, (NetworkDevice, net));
        }
        add(
            (VirtualMachine, vm),
            DependsOn,
            (Storage, skewed(&mut rng, count_of(Storage))),
        );
    }
    for host in 0..count_of(Server) {
        for net in distinct(&mut rng, count_of(NetworkDevice), 3, &skewed) {
            add((Server, host), ConnectsTo, (NetworkDevice, net));
        }
        add(
            (Server, host),
            DependsOn,
            (Storage, skewed(&mut rng, count_of(Storage))),
        );
    }
    for net in 0..count_of(NetworkDevice) {
        // Network devices link to each other both ways: cycles.
        add(
            (NetworkDevice, net),
            ConnectsTo,
            (NetworkDevice, uniform(&mut rng, count_of(NetworkDevice))),
        );
    }
    let mut unique = std::collections::HashSet::new();
    relationships.retain(|rel| {
        unique.insert((
            rel.source_class,
            rel.source_name.clone(),
            rel.relationship_type,
            rel.target_class,
            rel.target_name.clone(),
        ))
    });
    ImportInput {
        items,
        relationships,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_estate_and_another_seed_another() {
        assert_eq!(scale(2_000, 7), scale(2_000, 7));
        assert_ne!(scale(2_000, 7), scale(2_000, 8));
    }

    #[test]
    fn a_scaled_estate_has_about_the_asked_size_and_four_relationships_per_ci() {
        let estate = scale(10_000, 1);
        assert_eq!(estate.items.len(), 10_000);
        let per_ci = estate.relationships.len() as f64 / estate.items.len() as f64;
        assert!(
            (3.0..=5.0).contains(&per_ci),
            "{per_ci} relationships per CI"
        );
    }

    #[test]
    fn the_demo_estate_only_links_items_it_has() {
        let demo = demo();
        let names: std::collections::HashSet<_> = demo
            .items
            .iter()
            .map(|item| (item.class, item.name.clone()))
            .collect();
        for rel in &demo.relationships {
            assert!(
                names.contains(&(rel.source_class, rel.source_name.clone())),
                "{rel:?}"
            );
            assert!(
                names.contains(&(rel.target_class, rel.target_name.clone())),
                "{rel:?}"
            );
        }
    }
}
