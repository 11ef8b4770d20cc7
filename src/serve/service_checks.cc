// The checks a request passes: the key first (before anything else), the
// licence (its terms and the route's feature, on every request, as
// LicencePolicy answers), the privacy mode, and
// the gate's admission with the request's tokens.
#include "serve/call.h"
#include "serve/service.h"

namespace mg::serve {

bool Service::LicenceAllows(Call& call) {
  const Status status = licence_.Check(call.route->feature, options_.clock());
  if (status.ok()) return true;
  Fail(call, {403, "licence", "the model's licence does not allow this: " + status.message()});
  return false;
}

bool Service::ScreenPrivacy(Call& call) {
  // Analyse (and in redact mode rewrite) every text before the tokenizer sees it.
  std::vector<std::string*> texts;
  for (std::string& text : call.inputs.texts) texts.push_back(&text);
  for (std::optional<std::string>& pair : call.inputs.pairs) {
    if (pair) texts.push_back(&*pair);
  }
  for (std::string* text : texts) {
    auto found = privacy_->Scan(text, &call.pii);
    if (!found.ok()) {
      Fail(call, {500, "internal", found.status().message()});
      return false;
    }
    call.pii_total += *found;
  }
  std::string types;
  for (size_t type = 0; type < call.pii.size(); ++type) {
    if (call.pii[type] == 0) continue;
    const std::string_view name = privacy::EntityTypeName(static_cast<privacy::EntityType>(type));
    metrics_.CountPii(name, call.pii[type]);
    if (!types.empty()) types.append(", ");
    types.append(name);
  }
  if (privacy_->mode() == PrivacyMode::kBlock && call.pii_total > 0) {
    Fail(call, {422, "pii_detected",
                "the request contains personal data (" + types +
                    ") and this server refuses it (--privacy block)"});
    return false;
  }
  return true;
}

bool Service::Authenticate(Call& call) {
  call.authentication = gate_->Authenticate(call.gate_request());
  const Admission& verdict = call.authentication;
  if (verdict.status == 200) return true;
  call.unauthenticated = verdict.status == 401 && verdict.key_name.empty();
  Fail(call, {verdict.status, verdict.error_type, verdict.message, verdict.retry_after_s});
  return false;
}

void Service::NoteUnauthenticated() {
  metrics_.CountUnauthenticated();
  unauthenticated_log_.Note();
}

bool Service::Admit(Call& call) {
  call.admission = gate_->Admit(call.gate_request());
  if (call.admission.status != 200) {
    Fail(call, {call.admission.status, call.admission.error_type, call.admission.message,
                call.admission.retry_after_s});
    return false;
  }
  call.admitted = true;
  return true;
}

}  // namespace mg::serve
