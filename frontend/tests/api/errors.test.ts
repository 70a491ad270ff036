import { describe, expect, it } from "vitest";

import { ApiError, formErrors } from "../../src/api/errors";

const invalid = (details: unknown, message = "Invalid input.") => new ApiError(400, { code: "invalid", message, details });

describe("formErrors", () => {
  it("puts each field's messages under that field", () => {
    const errors = formErrors(
      invalid({ name: ["This field may not be blank."], chunk_overlap: ["must be smaller than chunk_size."] }),
      ["name", "chunk_overlap"],
    );
    expect(errors).toEqual({
      fields: { name: "This field may not be blank.", chunk_overlap: "must be smaller than chunk_size." },
      form: null,
    });
  });

  it("joins several messages of one field", () => {
    const errors = formErrors(invalid({ password: ["This password is too short.", "This password is too common."] }));
    expect(errors.fields.password).toBe("This password is too short. This password is too common.");
  });

  it("sends non_field_errors and fields the form does not show to the form message", () => {
    const errors = formErrors(
      invalid({ non_field_errors: ["Give either a text or a document."], weights: { keyword: ["Must be positive."] } }),
      ["query"],
    );
    expect(errors.fields).toEqual({});
    expect(errors.form).toBe("Give either a text or a document. weights: keyword: Must be positive.");
  });

  it("names the item of a list field that is wrong", () => {
    const errors = formErrors(invalid({ include: { "1": ["Ensure this field has no more than 512 characters."] } }), ["include"]);
    expect(errors.fields.include).toBe("Item 2: Ensure this field has no more than 512 characters.");
  });

  it("uses the error's message when there are no details (a 409, a 403)", () => {
    const busy = new ApiError(409, { code: "conflict", message: "An index operation is running on this collection." });
    expect(formErrors(busy)).toEqual({ fields: {}, form: "An index operation is running on this collection." });
  });

  it("handles errors that are not the API's", () => {
    expect(formErrors(new TypeError("boom")).form).toBe("boom");
  });
});
