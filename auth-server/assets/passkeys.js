// Passkeys (WebAuthn): the one script of the pages. The forms work without
// it except where the browser API is the point: a form marked
// data-passkey asks the server for options (POST, with the page's CSRF
// token), hands them to navigator.credentials, and submits the answer in
// its hidden field. Nothing is evaluated from the server but JSON.
"use strict";
(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    for (const note of document.querySelectorAll("[data-passkey-unsupported]")) {
      note.hidden = false;
    }
    return;
  }
  for (const form of document.querySelectorAll("form[data-passkey]")) {
    form.hidden = false;
  }
  const bytes = (text) => {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const padded = b64 + "===".slice((b64.length + 3) % 4);
    return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  };
  const text = (buffer) => {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) {
      binary += String.fromCharCode(byte);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const options = async (form) => {
    const body = new URLSearchParams();
    body.set("csrf_token", form.elements.csrf_token.value);
    const answer = await fetch(form.dataset.options, {
      method: "POST",
      body,
      credentials: "same-origin",
      headers: { accept: "application/json" },
    });
    if (!answer.ok) {
      throw new Error("options");
    }
    return answer.json();
  };
  const say = (form, key) => {
    const status = form.querySelector("[data-passkey-status]");
    if (status) {
      status.textContent = status.dataset[key] || "";
    }
  };
  const register = async (form) => {
    const { publicKey } = await options(form);
    publicKey.challenge = bytes(publicKey.challenge);
    publicKey.user.id = bytes(publicKey.user.id);
    for (const excluded of publicKey.excludeCredentials || []) {
      excluded.id = bytes(excluded.id);
    }
    const made = await navigator.credentials.create({ publicKey });
    form.elements.credential.value = JSON.stringify({
      id: made.id,
      rawId: text(made.rawId),
      type: made.type,
      response: {
        attestationObject: text(made.response.attestationObject),
        clientDataJSON: text(made.response.clientDataJSON),
        transports: made.response.getTransports ? made.response.getTransports() : [],
      },
      extensions: {},
    });
    form.submit();
  };
  const assertion = (used) => JSON.stringify({
    id: used.id,
    rawId: text(used.rawId),
    type: used.type,
    response: {
      authenticatorData: text(used.response.authenticatorData),
      clientDataJSON: text(used.response.clientDataJSON),
      signature: text(used.response.signature),
      userHandle: used.response.userHandle ? text(used.response.userHandle) : null,
    },
    extensions: {},
  });
  let waiting = null;
  const signIn = async (form, conditional) => {
    const { publicKey } = await options(form);
    publicKey.challenge = bytes(publicKey.challenge);
    for (const allowed of publicKey.allowCredentials || []) {
      allowed.id = bytes(allowed.id);
    }
    if (waiting) {
      waiting.abort();
    }
    waiting = new AbortController();
    const request = { publicKey, signal: waiting.signal };
    if (conditional) {
      request.mediation = "conditional";
    }
    const used = await navigator.credentials.get(request);
    form.elements[form.dataset.field || "passkey"].value = assertion(used);
    form.submit();
  };
  for (const form of document.querySelectorAll("form[data-passkey]")) {
    form.addEventListener("submit", (event) => {
      const field = form.dataset.field || (form.dataset.passkey === "register" ? "credential" : "passkey");
      if (form.elements[field]?.value) {
        return;
      }
      event.preventDefault();
      say(form, "waiting");
      const run = form.dataset.passkey === "register" ? register(form) : signIn(form, false);
      run.catch(() => say(form, "failed"));
    });
  }
  // Conditional UI: the browser offers the passkeys in the email field's
  // autofill; choosing one signs in.
  const autofill = document.querySelector("form[data-passkey='sign-in'][data-autofill]");
  if (autofill && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
      if (available) {
        signIn(autofill, true).catch(() => {});
      }
    });
  }
})();
