//! The built-in kinds: type errors on each write path, workload selectors and templates,
//! metadata, immutable fields, and resourceVersion preconditions.

use super::*;

fn deployment(name: &str, app: &str, replicas: Value) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "rng", "labels": {"app": app}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": app}},
            "template": {
                "metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "web", "image": "registry.example/web:1"}]}
            }
        }
    })
}

const NOT_INT32: &str = "json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32";

#[test]
fn deployments_type_errors_on_every_path() {
    let c = cluster();
    let k = kind("apps", "deployments");
    c.create(k, "rng", deployment("web", "web", json!(2)), WriteOpts::by("meshdeck")).unwrap();
    let mut put = (*c.get(k, "rng", "web").unwrap()).clone();
    put["spec"]["replicas"] = json!("many");
    check(
        &c,
        k,
        &[
            (
                "create with replicas \"many\"",
                Op::Create(deployment("other", "other", json!("many"))),
                Want::Refused(
                    400,
                    "BadRequest",
                    "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
                ),
            ),
            (
                "update with replicas \"many\"",
                Op::Update(put),
                Want::RefusedWith(400, "BadRequest", &["cannot be handled as a Deployment: ", NOT_INT32]),
            ),
            (
                "merge patch with replicas \"many\"",
                Op::Merge("web", json!({"spec": {"replicas": "many"}})),
                Want::RefusedWith(
                    422,
                    "Invalid",
                    &[" \"\" is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":", NOT_INT32],
                ),
            ),
            (
                "json patch with replicas \"many\"",
                Op::Json("web", json!([{"op": "replace", "path": "/spec/replicas", "value": "many"}])),
                Want::RefusedWith(422, "Invalid", &["patch: Invalid value: ", NOT_INT32]),
            ),
            (
                "server-side apply with replicas \"many\"",
                Op::Apply("web", deployment("web", "web", json!("many"))),
                Want::Refused(
                    500,
                    "",
                    "failed to create typed patch object (rng/web; apps/v1, Kind=Deployment): .spec.replicas: expected numeric (int or float), got string",
                ),
            ),
            (
                "a container image that is a number",
                Op::Merge(
                    "web",
                    json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": 5}]}}}}),
                ),
                Want::RefusedWith(
                    422,
                    "Invalid",
                    &[
                        "json: cannot unmarshal number into Go struct field Container.spec.template.spec.containers.image of type string",
                    ],
                ),
            ),
        ],
    );
    let cm = kind("", "configmaps");
    check(
        &c,
        cm,
        &[
            (
                "a label value that is a number",
                Op::Create(
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": 1}}}),
                ),
                Want::Refused(
                    400,
                    "BadRequest",
                    "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ObjectMeta.metadata.labels of type string",
                ),
            ),
            (
                "data that is a number",
                Op::Create(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": 5})),
                Want::Refused(
                    400,
                    "BadRequest",
                    "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type map[string]string",
                ),
            ),
            (
                "a well-formed config map",
                Op::Create(
                    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "labels": {"a": "1"}}, "data": {"k": "v"}}),
                ),
                Want::Accepted,
            ),
        ],
    );
}

#[test]
fn workload_selectors_templates_and_metadata() {
    let c = cluster();
    let k = kind("apps", "deployments");
    c.create(k, "rng", deployment("web", "web", json!(2)), WriteOpts::by("meshdeck")).unwrap();
    let mut no_image = deployment("a", "a", json!(1));
    no_image["spec"]["template"]["spec"]["containers"][0].as_object_mut().unwrap().remove("image");
    no_image["spec"]["template"]["spec"]["containers"][0]["name"] = json!("");
    let mut mismatch = deployment("b", "b", json!(1));
    mismatch["spec"]["template"]["metadata"]["labels"] = json!({"app": "other"});
    let mut long_label = deployment("c", "c", json!(1));
    long_label["metadata"]["labels"]["tier"] = json!("x".repeat(64));
    long_label["metadata"]["annotations"] = json!({"bad key": "v"});
    check(
        &c,
        k,
        &[
            (
                "a container without a name or an image",
                Op::Create(no_image),
                Want::Refused(
                    422,
                    "Invalid",
                    "Deployment.apps \"a\" is invalid: [spec.template.spec.containers[0].name: Required value, spec.template.spec.containers[0].image: Required value]",
                ),
            ),
            (
                "a selector that does not select the template",
                Op::Create(mismatch),
                Want::Refused(
                    422,
                    "Invalid",
                    "Deployment.apps \"b\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`",
                ),
            ),
            (
                "a label value too long and an annotation key with a blank",
                Op::Create(long_label),
                Want::RefusedWith(
                    422,
                    "Invalid",
                    &[
                        "Deployment.apps \"c\" is invalid: [metadata.labels: Invalid value: \"xxxx",
                        "x\": must be no more than 63 characters, metadata.annotations: Invalid value: \"bad key\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]",
                    ],
                ),
            ),
            (
                "a changed selector, template unchanged",
                Op::Apply("web", {
                    let mut d = deployment("web", "web", json!(2));
                    d["spec"]["selector"]["matchLabels"]["app"] = json!("web2");
                    d
                }),
                Want::Refused(
                    422,
                    "Invalid",
                    "Deployment.apps \"web\" is invalid: [spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"web\"}: `selector` does not match template `labels`, spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable]",
                ),
            ),
            (
                "a changed selector with matching template labels",
                Op::Apply("web", deployment("web", "web2", json!(2))),
                Want::Refused(
                    422,
                    "Invalid",
                    "Deployment.apps \"web\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
                ),
            ),
            (
                "negative replicas",
                Op::Merge("web", json!({"spec": {"replicas": -1}})),
                Want::RefusedWith(
                    422,
                    "Invalid",
                    &["spec.replicas: Invalid value: -1: must be greater than or equal to 0"],
                ),
            ),
            ("a new image and replicas", Op::Merge("web", json!({"spec": {"replicas": 3}})), Want::Accepted),
            (
                "a bad object name",
                Op::Create(deployment("Web_1", "x", json!(1))),
                Want::RefusedWith(
                    422,
                    "Invalid",
                    &[
                        "Deployment.apps \"Web_1\" is invalid: metadata.name: Invalid value: \"Web_1\": a lowercase RFC 1123 subdomain",
                    ],
                ),
            ),
        ],
    );
    // The details name each field, as `details.causes` does.
    let err = c.patch(
        k,
        "rng",
        "web",
        &deployment("web", "web2", json!(2)),
        PatchHow::Apply { force: true },
        WriteOpts::by("m"),
        false,
    );
    let Err(OpError::Refused(r)) = err else { panic!("{err:?}") };
    assert_eq!(
        r.details.unwrap(),
        json!({"name": "web", "group": "apps", "kind": "Deployment", "causes": [{
            "reason": "FieldValueInvalid", "field": "spec.selector",
            "message": "Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"web2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
        }]})
    );
}

#[test]
fn immutable_fields_of_statefulsets_jobs_and_services() {
    let c = cluster();
    let sts = kind("apps", "statefulsets");
    let mut s = deployment("db", "db", json!(1));
    s["kind"] = json!("StatefulSet");
    s["spec"]["serviceName"] = json!("db");
    c.create(sts, "rng", s.clone(), WriteOpts::by("t")).unwrap();
    check(
        &c,
        sts,
        &[
            (
                "a new service name",
                Op::Merge("db", json!({"spec": {"serviceName": "db2"}})),
                Want::Refused(
                    422,
                    "Invalid",
                    "StatefulSet.apps \"db\" is invalid: spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
                ),
            ),
            ("more replicas", Op::Merge("db", json!({"spec": {"replicas": 3}})), Want::Accepted),
        ],
    );
    let job = kind("batch", "jobs");
    let j = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once"},
        "spec": {"selector": {"matchLabels": {"job": "once"}}, "template": {"metadata": {"labels": {"job": "once"}},
            "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}});
    c.create(job, "rng", j, WriteOpts::by("t")).unwrap();
    check(
        &c,
        job,
        &[
            (
                "a new selector",
                Op::Merge("once", json!({"spec": {"selector": {"matchLabels": {"job": "twice"}}}})),
                Want::Refused(
                    422,
                    "Invalid",
                    "Job.batch \"once\" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"job\":\"twice\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
                ),
            ),
            (
                "a new image",
                Op::Json(
                    "once",
                    json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "alpine"}]),
                ),
                Want::RefusedWith(
                    422,
                    "Invalid",
                    &[
                        "Job.batch \"once\" is invalid: spec.template: Invalid value: core.PodTemplateSpec{",
                        "}: field is immutable",
                    ],
                ),
            ),
            (
                "a label on the job itself",
                Op::Merge("once", json!({"metadata": {"labels": {"team": "a"}}})),
                Want::Accepted,
            ),
        ],
    );
    let svc = kind("", "services");
    let s = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"clusterIP": "10.96.0.10", "ports": [{"port": 80}]}});
    c.create(svc, "rng", s, WriteOpts::by("t")).unwrap();
    check(
        &c,
        svc,
        &[
            (
                "a new cluster IP",
                Op::Merge("web", json!({"spec": {"clusterIP": "10.96.0.11", "clusterIPs": ["10.96.0.11"]}})),
                Want::Refused(
                    422,
                    "Invalid",
                    "Service \"web\" is invalid: spec.clusterIPs[0]: Invalid value: []string{\"10.96.0.11\"}: may not change once set",
                ),
            ),
            (
                "a port out of range",
                Op::Merge("web", json!({"spec": {"ports": [{"port": 70000}]}})),
                Want::Refused(
                    422,
                    "Invalid",
                    "Service \"web\" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive",
                ),
            ),
            ("a new port", Op::Merge("web", json!({"spec": {"ports": [{"port": 8080}]}})), Want::Accepted),
        ],
    );
}

#[test]
fn resource_version_preconditions() {
    let c = cluster();
    let k = kind("apps", "deployments");
    let live = c.create(k, "rng", deployment("web", "web", json!(2)), WriteOpts::by("meshdeck")).unwrap();
    let rv: u64 = live["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap();
    let with_rv = |name: &str, rv: u64, replicas: i64| {
        let mut d = deployment(name, "web", json!(replicas));
        d["metadata"]["resourceVersion"] = json!(rv.to_string());
        d
    };
    let conflict = "Operation cannot be fulfilled on deployments.apps \"web\": the object has been modified; please apply your changes to the latest version and try again";
    check(
        &c,
        k,
        &[
            (
                "apply with a stale resourceVersion",
                Op::Apply("web", with_rv("web", rv - 1, 3)),
                Want::Refused(409, "Conflict", conflict),
            ),
            (
                "merge patch with a stale resourceVersion",
                Op::Merge(
                    "web",
                    json!({"metadata": {"resourceVersion": (rv - 1).to_string()}, "spec": {"replicas": 3}}),
                ),
                Want::Refused(409, "Conflict", conflict),
            ),
            ("apply with the live resourceVersion", Op::Apply("web", with_rv("web", rv, 3)), Want::Accepted),
        ],
    );
    // The real API server ignores a resourceVersion when server-side apply creates the object
    // (the create path of its update keeps no precondition).
    check(
        &c,
        k,
        &[("apply creating with a resourceVersion", Op::Apply("fresh", with_rv("fresh", rv, 1)), Want::Accepted)],
    );
    assert_ne!(c.get(k, "rng", "fresh").unwrap()["metadata"]["resourceVersion"], json!(rv.to_string()));
    // A POST that carries one fails in etcd, after a dry run of it passed.
    let mut post = with_rv("posted", rv, 1);
    post["metadata"]["resourceVersion"] = json!("7");
    assert_eq!(run(&c, k, &Op::Create(post.clone()), true), None);
    assert_eq!(
        run(&c, k, &Op::Create(post), false),
        Some((500, String::new(), "resourceVersion should not be set on objects to be created".into()))
    );
}
