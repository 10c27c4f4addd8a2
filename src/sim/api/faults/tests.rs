use super::*;

fn req(verb: &'static str, resource: &str, ns: &str, name: &str, dry_run: bool) -> RequestInfo {
    let mutating = matches!(verb, "create" | "update" | "patch" | "delete" | "deletecollection");
    RequestInfo { verb, resource: resource.into(), namespace: ns.into(), name: name.into(), dry_run, mutating }
}

#[test]
fn parses_specs_and_names_errors() {
    let f = Faults::parse("watch-close=5,error-rate=0.1,error-code=429,latency=20,expire=30").unwrap();
    assert_eq!(f.watch_close, Some(Duration::from_secs(5)));
    assert_eq!(f.error_answers, vec![Answer::Status(429)]);
    assert_eq!(f.latency, Some(Duration::from_millis(20)));
    assert_eq!(f.expire, Some(Duration::from_secs(30)));
    assert_eq!(Faults::parse("").unwrap(), Faults::default());
    assert_eq!(Faults::parse("error-rate=2").unwrap_err(), "fault error-rate: 2 is not between 0 and 1");
    assert!(Faults::parse("bogus=1").unwrap_err().starts_with("unknown fault \"bogus\""));

    let f = Faults::parse("error-rate=0.3,error-code=500+429+drop,write-after=0.25,seed=7").unwrap();
    assert_eq!(f.error_answers, vec![Answer::Status(500), Answer::Status(429), Answer::Drop]);
    assert_eq!((f.write_after, f.seed), (0.25, Some(7)));
    assert_eq!(
        Faults::parse("error-code=500+teapot").unwrap_err(),
        "fault error-code: answer \"teapot\" must be an HTTP error code (400-599, e.g. 500, 429, 503, 409, 403) or drop"
    );
}

#[test]
fn parses_rules_and_names_the_bad_part() {
    let f =
        Faults::parse("rule=patch:deployments:rng/web:500:after:real:times=1,rule=get:*:*:429:retry-after=2").unwrap();
    let want = Rule::new(Verb::Patch, Answer::Status(500))
        .resource("deployments")
        .namespace("rng")
        .name("web")
        .after()
        .dry_run(false)
        .times(1);
    assert_eq!(f.rules, vec![want.clone(), Rule::new(Verb::Get, Answer::Status(429)).retry_after(2)]);
    assert_eq!(want.to_string(), "patch:deployments:rng/web:500:after:real:times=1");
    assert_eq!(Rule::parse("write:namespaces:rng:drop:dry-run").unwrap().name.as_deref(), Some("rng"));
    let r = Rule::parse("list:pods:rng/*:503").unwrap();
    assert_eq!((r.namespace.as_deref(), r.name), (Some("rng"), None));
    for (spec, err) in [
        (
            "rule=patch:deployments:500",
            "fault rule \"patch:deployments:500\": expected VERB:RESOURCE:OBJECT:ANSWER[:OPTION...]",
        ),
        (
            "rule=poke:pods:*:500",
            "fault rule \"poke:pods:*:500\": unknown verb \"poke\"; known: get, list, watch, create, update, patch, delete, write, any",
        ),
        (
            "rule=get:pods:*:200",
            "fault rule \"get:pods:*:200\": answer \"200\" must be an HTTP error code (400-599, e.g. 500, 429, 503, 409, 403) or drop",
        ),
        (
            "rule=get:pods:rng/:500",
            "fault rule \"get:pods:rng/:500\": object \"rng/\" must be NAMESPACE/NAME, NAMESPACE/*, NAME or *",
        ),
        (
            "rule=get:pods:*:500:twice",
            "fault rule \"get:pods:*:500:twice\": unknown option \"twice\"; known: after, dry-run, real, times=N, retry-after=SECS",
        ),
        ("rule=get:pods:*:500:times=x", "fault rule \"get:pods:*:500:times=x\": times \"x\" is not a whole number"),
    ] {
        assert_eq!(Faults::parse(spec).unwrap_err(), err, "{spec}");
    }
}

#[test]
fn rules_strike_their_requests_count_and_are_spent() {
    let c = FaultControl::new(&Faults::default());
    let web =
        c.add(Rule::new(Verb::Write, Answer::Status(500)).resource("deployments").name("web").dry_run(false).times(2));
    let dry = req("patch", "deployments", "rng", "web", true);
    let real = req("patch", "deployments", "rng", "web", false);
    let other = req("patch", "deployments", "rng", "api", false);
    let read = req("get", "deployments", "rng", "web", false);
    assert_eq!(c.decide(Some(&dry)), None);
    assert_eq!(c.decide(Some(&other)), None);
    assert_eq!(c.decide(Some(&read)), None);
    let s = c.decide(Some(&real)).unwrap();
    assert_eq!((s.answer, s.timing, s.rule), (Answer::Status(500), Timing::Before, Some(web)));
    assert!(c.decide(Some(&real)).is_some());
    assert_eq!(c.decide(Some(&real)), None, "spent after two");
    assert_eq!(c.fired(web), 2);
    assert_eq!(c.struck().len(), 2);
}

#[test]
fn after_rules_count_only_committed_writes() {
    let c = FaultControl::new(&Faults::default());
    let id = c.add(Rule::new(Verb::Create, Answer::Drop).resource("configmaps").after().times(1));
    let create = req("create", "configmaps", "default", "a", false);
    let s = c.decide(Some(&create)).unwrap();
    assert_eq!(s.timing, Timing::After);
    // While that write is in flight the rule's one turn is taken.
    assert_eq!(c.decide(Some(&create)), None);
    c.settle(&s, &create, false);
    assert_eq!(c.fired(id), 0, "the write failed on its own: the fault did not strike");
    let s = c.decide(Some(&create)).unwrap();
    c.settle(&s, &create, true);
    assert_eq!(c.fired(id), 1);
    assert_eq!(c.decide(Some(&create)), None);
    // A read matched by an after-rule is struck before: there is nothing to commit.
    let g = c.add(Rule::new(Verb::Any, Answer::Status(503)).resource("secrets").after());
    let s = c.decide(Some(&req("get", "secrets", "default", "x", false))).unwrap();
    assert_eq!((s.timing, c.fired(g)), (Timing::Before, 1));
}

#[test]
fn the_error_rate_mixes_answers_and_strikes_real_writes_after_a_share_of_the_time() {
    let f = Faults::parse("error-rate=1,error-code=500+429,write-after=0.5,seed=3").unwrap();
    let c = FaultControl::new(&f);
    assert_eq!(c.decide(None), None, "discovery stays reliable");
    let mut seen = std::collections::BTreeSet::new();
    let (mut after, mut before) = (0, 0);
    for _ in 0..400 {
        let s = c.decide(Some(&req("patch", "peerauthentications", "rng", "default", false))).unwrap();
        seen.insert(s.answer.to_string());
        match s.timing {
            Timing::After => after += 1,
            Timing::Before => before += 1,
        }
        assert_eq!(
            c.decide(Some(&req("patch", "x", "rng", "y", true))).unwrap().timing,
            Timing::Before,
            "dry runs commit nothing"
        );
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), ["429", "500"]);
    assert!(after > 100 && before > 100, "{after} after, {before} before");
    c.set_error_rate(0.0);
    assert_eq!(c.decide(Some(&req("get", "pods", "", "", false))), None);
}
