// Sign up → verify the emailed code → log in. In development the code's
// email is not sent anywhere real; the page says where to find it.
import { identity, signIn } from "../api";
import { describe } from "../errors";
import { h, submitting, values } from "../dom";
import { Role, type Account } from "../gen/frevix/identity/v1/identity_pb";

const WHERE_IS_THE_CODE =
  "Running locally? `make mesh` prints every email to data/mesh/logs/mail.log; " +
  "`make run` writes them as .eml files under data/mail/.";

export function authView(onSignedIn: (account: Account) => void): HTMLElement {
  const status = h("p", { class: "status", role: "status" });
  const body = h("div");
  const tabs = {
    signup: h("button", { type: "button", onclick: () => show("signup") }, "Sign up"),
    verify: h("button", { type: "button", onclick: () => show("verify") }, "Verify email"),
    login: h("button", { type: "button", onclick: () => show("login") }, "Log in"),
  };
  let email = "";

  function show(which: keyof typeof tabs, note = ""): void {
    for (const [name, tab] of Object.entries(tabs)) tab.classList.toggle("active", name === which);
    status.textContent = note;
    status.className = "status";
    body.replaceChildren(which === "signup" ? signUpForm() : which === "verify" ? verifyForm() : loginForm());
  }

  function signUpForm(): HTMLElement {
    const form = h(
      "form",
      { id: "signup-form" },
      field("Your name", h("input", { name: "displayName", required: true, maxlength: "80" })),
      field("Email", h("input", { name: "email", type: "email", required: true, value: email })),
      field("Password (10+ characters)", h("input", { name: "password", type: "password", required: true, minlength: "10" })),
      h(
        "fieldset",
        { class: "roles" },
        h("legend", {}, "I want to"),
        h("label", {}, h("input", { type: "checkbox", name: "client", checked: true }), " hire freelancers"),
        h("label", {}, h("input", { type: "checkbox", name: "freelancer" }), " sell my services"),
      ),
      h("button", { type: "submit" }, "Create account"),
    ) as HTMLFormElement;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const v = values(form);
      const roles = [...(v.client ? [Role.CLIENT] : []), ...(v.freelancer ? [Role.FREELANCER] : [])];
      void submitting(form, status, async () => {
        await identity.signUp({ email: v.email, password: v.password, displayName: v.displayName, roles });
        email = v.email;
        show("verify", `We emailed a 6-digit code to ${email}. ${WHERE_IS_THE_CODE}`);
      }, describe);
    });
    return form;
  }

  function verifyForm(): HTMLElement {
    const form = h(
      "form",
      { id: "verify-form" },
      field("Email", h("input", { name: "email", type: "email", required: true, value: email })),
      field("6-digit code", h("input", { name: "code", inputmode: "numeric", pattern: "[0-9]{6}", required: true, autocomplete: "one-time-code" })),
      h("button", { type: "submit" }, "Verify"),
      h("button", { type: "button", class: "link", onclick: () => resend() }, "Send a new code"),
    ) as HTMLFormElement;
    const resend = () =>
      void submitting(form, status, async () => {
        const address = values(form).email;
        await identity.resendVerification({ email: address });
        status.textContent = `A new code is on its way to ${address}. ${WHERE_IS_THE_CODE}`;
      }, describe);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const v = values(form);
      void submitting(form, status, async () => {
        await identity.verifyEmail({ email: v.email, code: v.code });
        email = v.email;
        show("login", "Your email is verified. Log in to start.");
      }, describe);
    });
    return form;
  }

  function loginForm(): HTMLElement {
    const form = h(
      "form",
      { id: "login-form" },
      field("Email", h("input", { name: "email", type: "email", required: true, value: email })),
      field("Password", h("input", { name: "password", type: "password", required: true })),
      h("button", { type: "submit" }, "Log in"),
    ) as HTMLFormElement;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const v = values(form);
      void submitting(form, status, async () => {
        const answer = await identity.login({ email: v.email, password: v.password, deviceName: navigator.userAgent.slice(0, 100) });
        if (!answer.tokens || !answer.account) throw new Error("the login answer was incomplete");
        signIn(answer.tokens);
        onSignedIn(answer.account);
      }, describe);
    });
    return form;
  }

  show("signup");
  return h("section", { class: "card auth", id: "auth" }, h("h2", {}, "Welcome to Frevix"), h("nav", { class: "tabs" }, tabs.signup, tabs.verify, tabs.login), body, status);
}

export function field(label: string, input: HTMLElement): HTMLElement {
  return h("label", { class: "field" }, h("span", {}, label), input);
}
