# %% [markdown]
# # own_classifier

# %%
print(1 + 1)
